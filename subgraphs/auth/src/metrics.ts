import { Counter, type Registry } from '@orderflow/common/observability';

/**
 * Password checks the auth service refused before hashing: reason throttled
 * (the log-in throttle: RATE_LIMITED) or busy (the hashing queue was full:
 * SERVICE_UNAVAILABLE); kind login, client (OAuth client authentication) or signup.
 */
export function createPasswordCheckRefusals(registry: Registry) {
  return new Counter({
    name: 'auth_password_checks_refused_total',
    help: 'Password checks refused before any hash, by reason (throttled, busy) and kind (login, client, signup)',
    labelNames: ['reason', 'kind'] as const,
    registers: [registry],
  });
}
