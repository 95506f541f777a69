/**
 * The one registry of error codes a client can see (the contract's list, `extensions.code`).
 * Anything thrown without one of these codes is masked as INTERNAL_SERVER_ERROR.
 */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  RATE_LIMITED: 'RATE_LIMITED',
  INVALID_TRANSITION: 'INVALID_TRANSITION',
  /** A dependency is down or its circuit is open; the client may retry. */
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  /**
   * A subscription's `after:` cursor is too far back to replay (too many
   * events since, or older than the replay window): refetch the current state
   * with a query, then subscribe without `after:`.
   */
  REPLAY_TOO_OLD: 'REPLAY_TOO_OLD',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
  // Standard codes produced by GraphQL servers themselves.
  GRAPHQL_PARSE_FAILED: 'GRAPHQL_PARSE_FAILED',
  GRAPHQL_VALIDATION_FAILED: 'GRAPHQL_VALIDATION_FAILED',
  BAD_REQUEST: 'BAD_REQUEST',
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  PERSISTED_QUERY_NOT_SUPPORTED: 'PERSISTED_QUERY_NOT_SUPPORTED',
  /**
   * A first-party client (TRUSTED_DOCUMENT_CLIENTS) in production sent a document, or an id that is
   * not in the web app's manifest: it may run only the app's operations, by id.
   */
  PERSISTED_QUERY_NOT_LISTED: 'PERSISTED_QUERY_NOT_LISTED',
  OPERATION_RESOLUTION_FAILURE: 'OPERATION_RESOLUTION_FAILURE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const KNOWN = new Set<string>(Object.values(ErrorCode));

export function isKnownErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && KNOWN.has(code);
}
