import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { traceHeaders, type Logger } from '@orderflow/common/observability';
import { CLIENT_ADDRESS_HEADER, INTERNAL_TOKEN_HEADER, type InternalAuth, type Viewer } from '@orderflow/common/server';
import type { RequestRateLimiter } from './rate-limit.ts';

export interface OAuthProxyOptions {
  /** The auth service's base URL. */
  authUrl: string;
  internalAuth: InternalAuth;
  limiter: RequestRateLimiter;
  /** Requests per minute per IP (shared with anonymous GraphQL calls). */
  perIpPerMinute: number;
  maxBodyBytes: number;
  log: Logger;
}

/** The gateway's own credential towards the auth service's OAuth routes (and JWKS). */
export const GATEWAY_SERVICE: Viewer = {
  id: 'service:gateway',
  clientId: 'gateway',
  kind: 'service',
  scopes: new Set(['internal:oauth']),
};

const RELAYED_HEADERS = ['content-type', 'cache-control', 'pragma', 'www-authenticate', 'retry-after'];

/**
 * The OAuth2 endpoints on the gateway's origin, answered by the auth service
 * (the only place that knows clients, keys and tokens). The gateway adds
 * what belongs at the edge: the per-IP rate limit (429 + Retry-After) and
 * the body size limit (413), with RFC 6749-shaped error bodies.
 */
export function createOAuthProxy({
  authUrl,
  internalAuth,
  limiter,
  perIpPerMinute,
  maxBodyBytes,
  log,
}: OAuthProxyOptions): Router {
  const router = express.Router();
  const oauthError = (res: Response, status: number, error: string, description: string) =>
    res
      .status(status)
      .set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' })
      .json({ error, error_description: description });

  const perIp = async (req: Request, res: Response, next: NextFunction) => {
    const taken = limiter.take(`ip:${req.ip}`, perIpPerMinute);
    // Awaited only when the shared store must be asked: otherwise the request goes on in this tick.
    const decision = taken instanceof Promise ? await taken : taken;
    if (decision.allowed) return next();
    res.set('Retry-After', String(decision.retryAfterSeconds));
    oauthError(res, 429, 'rate_limited', `Too many requests; retry in ${decision.retryAfterSeconds} s`);
  };

  const rawBody = express.raw({ type: () => true, limit: maxBodyBytes });
  const body = (req: Request, res: Response, next: NextFunction) =>
    rawBody(req, res, (err?: unknown) => {
      if (!err) return next();
      const e = err as { type?: string; status?: number };
      if (e.type === 'entity.too.large') return oauthError(res, 413, 'invalid_request', 'Request body too large');
      oauthError(res, 400, 'invalid_request', 'Malformed request body');
    });

  const forward = (target: string) => async (req: Request, res: Response) => {
    try {
      const headers: Record<string, string> = {
        [INTERNAL_TOKEN_HEADER]: await internalAuth.sign(GATEWAY_SERVICE),
        ...traceHeaders(),
      };
      if (req.headers['content-type']) headers['content-type'] = req.headers['content-type'];
      if (req.headers.authorization) headers.authorization = req.headers.authorization;
      // For the auth service's throttle of client authentication per address.
      if (req.ip) headers[CLIENT_ADDRESS_HEADER] = req.ip;
      const upstream = await fetch(`${authUrl}/internal/oauth/${target}`, {
        method: req.method,
        headers,
        body:
          req.method === 'POST' ? (Buffer.isBuffer(req.body) ? new Uint8Array(req.body) : new Uint8Array()) : undefined,
        signal: AbortSignal.timeout(10_000),
      });
      res.status(upstream.status);
      for (const h of RELAYED_HEADERS) {
        const v = upstream.headers.get(h);
        if (v) res.set(h, v);
      }
      res.send(Buffer.from(await upstream.arrayBuffer()));
    } catch (err) {
      log.error({ err: (err as Error).message, target }, 'auth service unreachable');
      res.set('Retry-After', '5');
      oauthError(res, 503, 'temporarily_unavailable', 'The authorization server is temporarily unavailable');
    }
  };

  router.post('/oauth/token', perIp, body, forward('token'));
  router.post('/oauth/revoke', perIp, body, forward('revoke'));
  router.get('/.well-known/jwks.json', perIp, forward('jwks'));
  router.get('/.well-known/oauth-authorization-server', perIp, forward('metadata'));
  return router;
}
