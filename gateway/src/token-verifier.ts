import { createRemoteJWKSet, customFetch, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { ACCESS_TOKEN_ALG, ACCESS_TOKEN_TYPE, type AccessTokenClaims, type Viewer } from '@orderflow/common/server';

/** Why a bearer token was refused; the message is safe to show the client. */
export class InvalidTokenError extends Error {}

export interface TokenVerifierOptions {
  /** The auth service's JWKS (internal URL). */
  jwksUrl: string;
  /** Headers for each JWKS fetch (the gateway's internal token). */
  jwksHeaders: () => Promise<Record<string, string>>;
  issuer: string;
  audience: string;
  isRevoked: (jti: string) => boolean;
  /** Least time between refetches caused by an unknown kid. */
  cooldownMs: number;
  /** Skew allowed on exp/nbf/iat between our clocks. Default 5 s. */
  clockToleranceSeconds?: number;
}

export interface VerifiedToken {
  viewer: Viewer;
  /** Requests per minute of the token's client (its rate_limit claim). */
  rateLimit: number;
  /** Key of the caller's token bucket: the client for client tokens, client and customer for customer tokens. */
  rateKey: string;
}

const REQUIRED = ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id', 'scope'];
/** How long a verified token is trusted without checking its signature again (its expiry and revocation: always). */
const VERIFIED_TTL_MS = 60_000;
/** Verified tokens kept (about 1 KB each); the cache starts afresh when full. */
const VERIFIED_MAX = 10_000;

/**
 * Verifies RFC 9068 access tokens: RS256 only (so neither `alg: none` nor an
 * HS256 token "signed" with our public key passes), `typ: at+jwt` (no ID or
 * internal tokens), our issuer and audience, a key from the JWKS, expiry and
 * not-before, every claim present, and not revoked.
 *
 * Keys: jose's remote JWKS cache — fetched on first use, refetched on an
 * unknown kid (at most once per cool-down) and when `reloadKeys()` is called
 * (the auth service announces rotations on NATS).
 */
export function createTokenVerifier({
  jwksUrl,
  jwksHeaders,
  issuer,
  audience,
  isRevoked,
  cooldownMs,
  clockToleranceSeconds = 5,
}: TokenVerifierOptions) {
  const keys = createRemoteJWKSet(new URL(jwksUrl), {
    cooldownDuration: cooldownMs,
    cacheMaxAge: 10 * 60_000,
    timeoutDuration: 3_000,
    [customFetch]: async (url, options) => {
      for (const [k, v] of Object.entries(await jwksHeaders())) options.headers.set(k, v);
      return fetch(url, options);
    },
  });

  // A client sends the same token on every request until it expires: its signature and claims are checked
  // once, then again at most every VERIFIED_TTL_MS (jose's JWKS cache may have dropped its key meanwhile);
  // expiry and revocation are checked on every request.
  const verified = new Map<string, { token: VerifiedToken; exp: number; until: number }>();
  let generation = 0; // of the keys: a reload starts a new one

  return {
    async verify(token: string): Promise<VerifiedToken> {
      const now = Date.now();
      const known = verified.get(token);
      if (known && known.until > now && known.exp > Math.floor(now / 1000) - clockToleranceSeconds) {
        if (isRevoked(known.token.viewer.tokenId!)) throw new InvalidTokenError('The access token has been revoked');
        return { ...known.token, viewer: { ...known.token.viewer } };
      }
      if (known) verified.delete(token);
      const keysOf = generation;
      let claims: AccessTokenClaims;
      try {
        const { payload } = await jwtVerify<AccessTokenClaims>(token, keys as JWTVerifyGetKey, {
          issuer,
          audience,
          algorithms: [ACCESS_TOKEN_ALG],
          typ: ACCESS_TOKEN_TYPE,
          requiredClaims: REQUIRED,
          clockTolerance: clockToleranceSeconds,
        });
        claims = payload;
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired) throw new InvalidTokenError('The access token has expired');
        if (err instanceof joseErrors.JWKSTimeout) throw err;
        if (err instanceof joseErrors.JOSEError) throw new InvalidTokenError('The access token is invalid');
        // The JWKS could not be fetched (auth service down): not the client's fault, but no way to trust the token either.
        throw err;
      }
      if (typeof claims.scope !== 'string' || typeof claims.client_id !== 'string' || typeof claims.jti !== 'string')
        throw new InvalidTokenError('The access token is invalid');
      if (isRevoked(claims.jti)) throw new InvalidTokenError('The access token has been revoked');
      const isClient = claims.sub === claims.client_id;
      const viewer: Viewer = {
        id: claims.sub,
        clientId: claims.client_id,
        kind: isClient ? 'client' : 'customer',
        scopes: new Set(claims.scope.split(' ').filter(Boolean)),
        ...(typeof claims.email === 'string' ? { email: claims.email } : {}),
        tokenId: claims.jti,
        tokenExpiresAt: claims.exp,
      };
      const rateLimit = Number.isInteger(claims.rate_limit) && claims.rate_limit > 0 ? claims.rate_limit : 600;
      const result: VerifiedToken = {
        viewer,
        rateLimit,
        rateKey: isClient ? `client:${claims.client_id}` : `client:${claims.client_id}:${claims.sub}`,
      };
      if (keysOf === generation) {
        if (verified.size >= VERIFIED_MAX) verified.clear();
        verified.set(token, { token: result, exp: claims.exp, until: now + VERIFIED_TTL_MS });
      }
      return { ...result, viewer: { ...viewer } };
    },
    /** Refetches the JWKS now (after a rotation announcement); every token is verified afresh. */
    async reloadKeys() {
      // Before and after: a token verified against the old keys while they were being refetched is not kept.
      generation++;
      verified.clear();
      try {
        await keys.reload();
      } finally {
        generation++;
        verified.clear();
      }
    },
  };
}
export type TokenVerifier = ReturnType<typeof createTokenVerifier>;
