import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ErrorCode, isKnownErrorCode } from '@orderflow/contracts';

export function appError(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code } });
}

export const badInput = (message: string, field?: string) =>
  appError(ErrorCode.BAD_USER_INPUT, message, field ? { field } : {});
export const notFound = (message: string) => appError(ErrorCode.NOT_FOUND, message);
export const forbidden = (message = 'Not allowed') => appError(ErrorCode.FORBIDDEN, message);
export const unauthenticated = (message = 'Authentication required') => appError(ErrorCode.UNAUTHENTICATED, message);

/** What a client is told when a service's own database cannot be reached: retry later, and nothing about where or what. */
export const DATABASE_UNAVAILABLE_MESSAGE =
  'The service is temporarily unavailable (its database cannot be reached); please retry';

/**
 * Apollo `formatError` for every server: known codes pass with their message;
 * a database that cannot be reached (`original`, the error a resolver threw,
 * passes `isDatabaseUnavailable`) is SERVICE_UNAVAILABLE, retryable; everything
 * else becomes a bare INTERNAL_SERVER_ERROR. Neither carries the stack, SQL or
 * host. `masked` says which kind it was, so the caller can log it once:
 * `'unexpected'` (a defect, log as an error), `'unavailable'` (an outage), or false.
 */
export function maskError(
  formatted: GraphQLFormattedError,
  original?: unknown,
): { masked: false | 'unexpected' | 'unavailable'; error: GraphQLFormattedError } {
  const code = formatted.extensions?.code;
  if (isKnownErrorCode(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
    const { stacktrace: _drop, exception: _drop2, ...ext } = formatted.extensions ?? {};
    return { masked: false, error: { ...formatted, extensions: ext } };
  }
  const where = {
    ...(formatted.path ? { path: formatted.path } : {}),
    ...(formatted.locations ? { locations: formatted.locations } : {}),
  };
  if (isDatabaseUnavailable(original))
    return {
      masked: 'unavailable',
      error: { message: DATABASE_UNAVAILABLE_MESSAGE, ...where, extensions: { code: ErrorCode.SERVICE_UNAVAILABLE } },
    };
  return {
    masked: 'unexpected',
    error: { message: 'Internal server error', ...where, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } },
  };
}

/**
 * A unique-constraint violation, whether Prisma saw it through a model call
 * (P2002) or a raw statement (SQLSTATE 23505 passed through the adapter), or
 * pg itself (`publishingTransaction`, a pool query).
 */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as {
    code?: string;
    meta?: { code?: string; driverAdapterError?: { cause?: { originalCode?: string; kind?: string } } };
    message?: string;
  };
  if (e?.code === 'P2002' || e?.code === '23505') return true;
  if (e?.meta?.code === '23505') return true;
  const cause = e?.meta?.driverAdapterError?.cause;
  return cause?.originalCode === '23505' || cause?.kind === 'UniqueConstraintViolation';
}

/** Prisma's codes for a server it cannot reach or that went away, and for no pooled connection in time. */
const UNAVAILABLE_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
/** The pg adapter's kinds for the same. */
const UNAVAILABLE_ADAPTER_KINDS = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
]);
/** SQLSTATEs: class 08 (connection exception), 57P01–57P03 (shutting down, crashed, starting up), 53300 (too many connections). */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[1-3]|53300)$/;
/** What pg itself throws when its pool or client cannot get or keep a connection. */
const UNAVAILABLE_MESSAGE =
  /timeout exceeded when trying to connect|Connection terminated|not queryable|ECONNREFUSED|ECONNRESET/;

/**
 * The database could not be reached or dropped the connection (down,
 * restarting, failing over, no pooled connection in time): a failure of the
 * moment, not of the request or message at hand. Seen through a model call,
 * a raw statement or a transaction.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  // The error, then what it wraps (a few levels: causes can be cyclic).
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const x = e as {
      code?: unknown;
      meta?: { driverAdapterError?: { cause?: { originalCode?: string; kind?: string } } };
      message?: unknown;
    };
    if (typeof x.code === 'string' && (UNAVAILABLE_PRISMA_CODES.has(x.code) || UNAVAILABLE_SQLSTATE.test(x.code)))
      return true;
    const cause = x.meta?.driverAdapterError?.cause;
    if (
      cause &&
      (UNAVAILABLE_ADAPTER_KINDS.has(cause.kind ?? '') || UNAVAILABLE_SQLSTATE.test(cause.originalCode ?? ''))
    )
      return true;
    if (typeof x.message === 'string' && UNAVAILABLE_MESSAGE.test(x.message)) return true;
  }
  return false;
}
