import cors from 'cors';
import type { RequestHandler } from 'express';
import { z } from 'zod';

/**
 * `CORS_ORIGINS`: the browser origins allowed to call the gateway from
 * another origin, comma-separated (`https://shop.example.com,http://localhost:5173`).
 * Empty (the default): no CORS headers at all, so browsers allow only the
 * gateway's own origin (the web app it serves at `/`). Each entry must be an
 * exact origin (scheme, host, port): with credentials allowed, a wildcard
 * would hand every site the visitor's session, so `*` is refused.
 */
export const corsOriginsEnv = z
  .string()
  .default('')
  .transform((raw, ctx): string[] => {
    const origins = raw
      .split(',')
      .map((o) => o.trim().replace(/\/+$/, ''))
      .filter(Boolean);
    for (const origin of origins) {
      const parsed = URL.canParse(origin) ? new URL(origin) : null;
      if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
        ctx.addIssue({
          code: 'custom',
          message: `"${origin}" is not an origin: write scheme://host[:port], e.g. https://shop.example.com (no path, no wildcard)`,
        });
        return z.NEVER;
      }
    }
    return [...new Set(origins)];
  });

/** Response headers a cross-origin client may read (rate limits and auth challenges carry information there). */
const EXPOSED_HEADERS = ['Retry-After', 'WWW-Authenticate'];

/** How long a browser may reuse a preflight's answer: 10 minutes, so a changed CORS_ORIGINS takes effect soon. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * The CORS middleware for the allowed origins, or null when there are none.
 * An allowed origin gets `Access-Control-Allow-Origin: <origin>`,
 * `Access-Control-Allow-Credentials: true` (cookies and the Authorization
 * header), and preflights (OPTIONS) are answered with 204 and the methods and
 * headers it may use. Any other origin gets no CORS header: its browser
 * blocks the response. `Vary: Origin` keeps caches from mixing the two.
 */
export function createCors(origins: readonly string[]): RequestHandler | null {
  if (origins.length === 0) return null;
  const allowed = new Set(origins);
  return cors({
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    credentials: true,
    methods: ['GET', 'POST', 'OPTIONS'],
    // Reflects the preflight's Access-Control-Request-Headers: graphql clients send their own
    // (apollo-require-preflight, x-apollo-operation-name, traceparent).
    allowedHeaders: undefined,
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: PREFLIGHT_MAX_AGE_SECONDS,
    optionsSuccessStatus: 204,
  }) as RequestHandler;
}
