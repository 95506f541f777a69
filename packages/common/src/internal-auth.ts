import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import type { Viewer } from './viewer.ts';

/**
 * Subgraphs are closed to everyone but the gateway and sibling services: every
 * request must carry a short-lived internal token in this header, signed with
 * the secret only they share. It carries the caller's verified identity, so a
 * subgraph never trusts a plain header for who the user is.
 */
export const INTERNAL_TOKEN_HEADER = 'x-internal-token';
/**
 * The caller's network address as the gateway saw it (after `trust proxy`),
 * for limits per address in a subgraph (the auth service's log-in throttle).
 * Set by the gateway on every subgraph call; trusted only because a request
 * without a valid internal token never gets that far.
 */
export const CLIENT_ADDRESS_HEADER = 'x-client-address';
const AUDIENCE = 'orderflow-internal';
const TTL_SECONDS = 60;

interface InternalClaims {
  sub?: string;
  client_id?: string;
  kind?: Viewer['kind'];
  scope?: string;
  email?: string;
  /** The caller's access token id and expiry (see Viewer.tokenId). */
  tid?: string;
  texp?: number;
}

export interface InternalAuth {
  /** Token for a request on behalf of `viewer` (null: anonymous caller). */
  sign(viewer: Viewer | null): Promise<string>;
  /** Verified viewer (null for anonymous); throws InternalAuthError when invalid. */
  verify(token: string | undefined): Promise<Viewer | null>;
}

export class InternalAuthError extends Error {}

export function createInternalAuth({ secret, issuer }: { secret: string; issuer: string }): InternalAuth {
  const key = new TextEncoder().encode(secret);
  // Tokens are reused for half their life: signing on every request is waste.
  const cache = new Map<string, { token: string; until: number }>();
  // ...and so the same token arrives again and again: it is verified once, and its viewer kept until
  // its `exp` (HS256 over the shared secret; nothing revokes an internal token before it expires).
  const verified = new Map<string, { viewer: Viewer | null; exp: number }>();

  return {
    async sign(viewer) {
      const cacheKey = viewer
        ? `${viewer.kind}|${viewer.id}|${viewer.clientId}|${[...viewer.scopes].join(' ')}|${viewer.email ?? ''}|${viewer.tokenId ?? ''}`
        : '-';
      const now = Date.now();
      const hit = cache.get(cacheKey);
      if (hit && hit.until > now) return hit.token;
      const claims: InternalClaims = viewer
        ? {
            client_id: viewer.clientId,
            kind: viewer.kind,
            scope: [...viewer.scopes].join(' '),
            email: viewer.email,
            ...(viewer.tokenId ? { tid: viewer.tokenId, texp: viewer.tokenExpiresAt } : {}),
          }
        : {};
      let jwt = new SignJWT(claims as Record<string, unknown>)
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer(issuer)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(`${TTL_SECONDS}s`);
      if (viewer) jwt = jwt.setSubject(viewer.id);
      const token = await jwt.sign(key);
      if (cache.size > 10_000) cache.clear();
      cache.set(cacheKey, { token, until: now + (TTL_SECONDS * 1000) / 2 });
      return token;
    },
    async verify(token) {
      if (!token) throw new InternalAuthError('missing internal token');
      const known = verified.get(token);
      if (known) {
        // jose's test: expired once `exp` <= now, in whole seconds.
        if (known.exp > Math.floor(Date.now() / 1000)) return copyOf(known.viewer);
        verified.delete(token);
      }
      try {
        const { payload } = await jwtVerify<InternalClaims>(token, key, { audience: AUDIENCE, algorithms: ['HS256'] });
        const viewer: Viewer | null = payload.sub
          ? {
              id: payload.sub,
              clientId: payload.client_id ?? '',
              kind: payload.kind ?? 'customer',
              scopes: new Set((payload.scope ?? '').split(' ').filter(Boolean)),
              ...(payload.email ? { email: payload.email } : {}),
              ...(payload.tid ? { tokenId: payload.tid, tokenExpiresAt: payload.texp } : {}),
            }
          : null;
        // Ours always carry an exp; one without is verified every time.
        if (typeof payload.exp === 'number') {
          if (verified.size >= 10_000) verified.clear();
          verified.set(token, { viewer, exp: payload.exp });
        }
        return copyOf(viewer);
      } catch (err) {
        if (err instanceof joseErrors.JOSEError) throw new InternalAuthError('invalid internal token');
        throw err;
      }
    },
  };
}

/** Each request gets its own viewer object (its scopes are a ReadonlySet): what one request adds to it never reaches the next. */
function copyOf(viewer: Viewer | null): Viewer | null {
  return viewer && { ...viewer };
}
