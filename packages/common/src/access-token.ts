/**
 * The access tokens of this system (RFC 9068 JWT profile), as the auth
 * service issues them and the gateway verifies them.
 */

/** The `typ` header of an RFC 9068 access token; the gateway refuses any other (ID tokens, internal tokens). */
export const ACCESS_TOKEN_TYPE = 'at+jwt';
/** The only signature algorithm issued and accepted: no `none`, no HS256 confusion with the public key. */
export const ACCESS_TOKEN_ALG = 'RS256';

export interface AccessTokenClaims {
  iss: string;
  /** The customer id, or the client id for client-credentials tokens (RFC 9068 §2.2). */
  sub: string;
  aud: string;
  exp: number;
  iat: number;
  jti: string;
  client_id: string;
  /** Space-separated scopes. */
  scope: string;
  /** The client's rate limit in requests per minute, enforced by the gateway. */
  rate_limit: number;
  /** Customers only. */
  email?: string;
}
