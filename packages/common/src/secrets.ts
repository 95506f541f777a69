/**
 * Secrets that are public because this repository prints them: the
 * development defaults of the services, the contract's development client
 * secrets, and the placeholders of docker-compose.yml and .env.example.
 * Production refuses every one of them (and anything shaped like them), so a
 * deployment that forgot to set a secret fails at start-up instead of
 * accepting tokens anyone can forge.
 */
export const PUBLIC_SECRETS: readonly string[] = [
  'development-only-internal-secret-change-me!',
  'development-only-signing-key-secret-change-me!',
  'change-me-to-a-long-random-secret-of-32-chars-or-more',
  'change-me-to-another-long-random-secret-of-32-chars',
  'storefront-dev-secret',
  'ops-console-dev-secret',
  'delivery-partner-dev-secret',
];

/**
 * Words of a value someone was meant to replace, or chose by hand: a random
 * secret (`openssl rand -hex 32`) never spells "secret" or "password".
 */
const PLACEHOLDER =
  /change[-_ ]?me|dev[-_]secret|development|placeholder|example|replace[-_ ]?(me|this)|secret|passw(or)?d/i;

/** Fewer distinct characters than this is a pattern ("xxxx…", "abababab…"), not a random secret. */
const MIN_DISTINCT_CHARACTERS = 8;

/**
 * Why `value` cannot be a production secret, or null when it can. The reason
 * never repeats the value: it ends up in a start-up error and in logs.
 */
export function weakSecretReason(value: string): string | null {
  if (PUBLIC_SECRETS.includes(value)) return 'is a development value published in this repository';
  if (PLACEHOLDER.test(value))
    return 'is a placeholder or was chosen by hand (it reads like "change me", "secret", "password" or "example")';
  if (new Set(value).size < MIN_DISTINCT_CHARACTERS)
    return `has fewer than ${MIN_DISTINCT_CHARACTERS} different characters, which no random secret has`;
  return null;
}

/**
 * Start-up check of a production service: throws one error naming every
 * secret variable that holds a public or placeholder value (never the value
 * itself). Unset variables are left to each service's own rule (required,
 * or "no client without a secret"). Does nothing outside production.
 *
 * @param secrets variable name → value, e.g. `{ INTERNAL_AUTH_SECRET: c.INTERNAL_AUTH_SECRET }`
 */
export function refuseWeakSecrets(nodeEnv: string, secrets: Record<string, string | undefined>): void {
  if (nodeEnv !== 'production') return;
  const lines = Object.entries(secrets).flatMap(([name, value]) => {
    const reason = value ? weakSecretReason(value) : null;
    return reason ? [`  ${name}: ${reason}; production needs a random secret of its own (openssl rand -hex 32)`] : [];
  });
  if (lines.length) throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
}
