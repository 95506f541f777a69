import type { IncomingHttpHeaders } from 'node:http';
import type { TokenVerifier, VerifiedToken } from './token-verifier.ts';
import { InvalidTokenError } from './token-verifier.ts';

/**
 * Who is calling: the one seam between transport and identity. The only
 * credential is an OAuth2 access token in `Authorization: Bearer <token>`
 * (RFC 6750 §2.1); everything downstream sees the Viewer it yields, signed
 * into the internal token by the data source.
 *
 * No header: anonymous (null). A header that is not a bearer token, or a
 * token that fails verification: InvalidTokenError (UNAUTHENTICATED) — a
 * bad credential is never silently downgraded to anonymous.
 */

// RFC 6750 b64token.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

export function createIdentityResolver({ verifier }: { verifier: TokenVerifier }) {
  return async function resolveIdentity(
    headers: IncomingHttpHeaders | Record<string, string | undefined>,
  ): Promise<VerifiedToken | null> {
    const header = headers.authorization;
    if (header === undefined) return null;
    const match = typeof header === 'string' ? BEARER.exec(header) : null;
    if (!match) throw new InvalidTokenError('Send the access token as "Authorization: Bearer <token>"');
    return verifier.verify(match[1]);
  };
}
export type IdentityResolver = ReturnType<typeof createIdentityResolver>;
