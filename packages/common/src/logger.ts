import { pino, type DestinationStream, type Logger } from 'pino';
import { currentTrace } from './trace-context.ts';

export type { Logger };

/** Paths that may carry credentials; pino replaces them before anything is written. */
const SECRET_KEYS = [
  'password',
  'passwordHash',
  'token',
  'accessToken',
  'refreshToken',
  'access_token',
  'refresh_token',
  'paymentToken',
  'secret',
  'secretHash',
  'client_secret',
  'clientSecret',
  'privateJwk',
  'authorization',
];
const REDACT = [
  'req.headers.authorization',
  'req.headers["x-internal-token"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-internal-token"]',
  'req.body',
  // At the top level of a log object and one level down (`{ input: { password } }`).
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
];

/**
 * The service's JSON logger. Every line written inside a trace context
 * (trace-context.ts) carries its `traceId`, child loggers included.
 * `destination` defaults to stdout; tests pass a stream to read the lines.
 */
export function createLogger(service: string, level = 'info', destination?: DestinationStream): Logger {
  const options = {
    name: service,
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    base: { service },
    mixin: () => {
      const trace = currentTrace();
      return trace ? { traceId: trace.traceId } : {};
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
