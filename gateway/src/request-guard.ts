import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { type Logger } from '@orderflow/common/observability';
import { ErrorCode } from '@orderflow/contracts';
import type { IdentityResolver } from './identity.ts';
import type { RequestRateLimiter } from './rate-limit.ts';
import { InvalidTokenError } from './token-verifier.ts';

export interface RequestGuardOptions {
  resolveIdentity: IdentityResolver;
  limiter: RequestRateLimiter;
  /** Requests per minute per IP without a valid token. */
  anonymousPerMinute: number;
  log: Logger;
  /** Called for each request refused with RATE_LIMITED: `client` for token holders, `ip` for everyone else (metrics). */
  onLimited?: (limit: 'client' | 'ip') => void;
}

/** A GraphQL response with one error, HTTP 200 as the contract says for UNAUTHENTICATED. */
function graphqlError(res: Response, code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) {
  res.status(200).json({ errors: [{ message, extensions: { ...extensions, code } }] });
}

/**
 * In front of /graphql: who is calling (sets `req.viewer`) and whether they
 * may call now. Errors are GraphQL responses with HTTP 200:
 *
 * - UNAUTHENTICATED for a malformed Authorization header or a token that is
 *   forged, expired, revoked, of another issuer/audience; with an RFC 6750
 *   `WWW-Authenticate: Bearer error="invalid_token"` header.
 * - RATE_LIMITED with `extensions.retryAfter` (seconds, also `Retry-After`)
 *   when the caller's bucket is empty: per client (and customer) for token
 *   holders, at the token's rate_limit; per IP for everyone else, refused
 *   tokens included (guessing tokens costs the guesser's budget).
 */
export function createRequestGuard({
  resolveIdentity,
  limiter,
  anonymousPerMinute,
  log,
  onLimited = () => {},
}: RequestGuardOptions): RequestHandler {
  const limited = (res: Response, retryAfter: number, limit: 'client' | 'ip') => {
    onLimited(limit);
    res.set('Retry-After', String(retryAfter));
    graphqlError(res, ErrorCode.RATE_LIMITED, `Rate limit exceeded; retry in ${retryAfter} s`, { retryAfter });
  };

  return (req: Request, res: Response, next: NextFunction) => {
    resolveIdentity(req.headers)
      .then(
        async (identity) => {
          const taken = identity
            ? limiter.take(identity.rateKey, identity.rateLimit)
            : limiter.take(`ip:${req.ip}`, anonymousPerMinute);
          // Awaited only when the shared store must be asked: otherwise the request goes on in this tick.
          const decision = taken instanceof Promise ? await taken : taken;
          if (!decision.allowed) return limited(res, decision.retryAfterSeconds, identity ? 'client' : 'ip');
          req.viewer = identity?.viewer ?? null;
          next();
        },
        async (err: unknown) => {
          if (!(err instanceof InvalidTokenError)) {
            log.error({ err }, 'token verification failed');
            return graphqlError(
              res,
              ErrorCode.SERVICE_UNAVAILABLE,
              'Authentication is temporarily unavailable; please retry',
            );
          }
          const taken = limiter.take(`ip:${req.ip}`, anonymousPerMinute);
          const decision = taken instanceof Promise ? await taken : taken;
          if (!decision.allowed) return limited(res, decision.retryAfterSeconds, 'ip');
          res.set(
            'WWW-Authenticate',
            `Bearer realm="orderflow", error="invalid_token", error_description="${err.message.replace(/"/g, "'")}"`,
          );
          graphqlError(res, ErrorCode.UNAUTHENTICATED, err.message);
        },
      )
      // A limiter that failed unexpectedly: Express's error handler answers 500 and logs it.
      .catch(next);
  };
}
