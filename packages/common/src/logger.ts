import { pino, type Logger } from 'pino';

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

export function createLogger(service: string, level = 'info'): Logger {
  return pino({ name: service, level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service } });
}
