import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths that may carry credentials; pino replaces them before anything is written. */
const REDACT = [
  'req.headers.authorization',
  'req.headers["x-internal-token"]',
  'headers.authorization',
  '*.password',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.paymentToken',
  '*.secret',
];

export function createLogger(service: string, level = 'info'): Logger {
  return pino({ name: service, level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service } });
}
