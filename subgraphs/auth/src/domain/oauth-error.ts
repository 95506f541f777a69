/**
 * Errors of the OAuth endpoints, RFC 6749 §5.2 (token) and RFC 7009 §2.2.1
 * (revocation): a JSON body `{"error": "...", "error_description": "..."}`,
 * HTTP 400, or 401 with `WWW-Authenticate` for a client that failed to
 * authenticate.
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'unsupported_token_type';

export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    /** For invalid_client: the client tried HTTP Basic, so the challenge names it. */
    readonly basicAttempted = false,
  ) {
    super(description);
  }

  get status(): number {
    return this.error === 'invalid_client' ? 401 : 400;
  }

  get body() {
    return { error: this.error, error_description: this.description };
  }
}

export const isOAuthError = (err: unknown): err is OAuthError => err instanceof OAuthError;

export const invalidRequest = (description: string) => new OAuthError('invalid_request', description);
export const invalidGrant = (description = 'The grant is invalid, expired or revoked') =>
  new OAuthError('invalid_grant', description);
export const invalidClient = (basicAttempted: boolean) =>
  new OAuthError('invalid_client', 'Client authentication failed', basicAttempted);
