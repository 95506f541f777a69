import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { resolveInternalSecret } from './config.ts';
import { PUBLIC_SECRETS, refuseWeakSecrets, weakSecretReason } from './secrets.ts';

const random = () => randomBytes(32).toString('hex');

/** The error refuseWeakSecrets throws, or null. */
function refusal(nodeEnv: string, secrets: Record<string, string | undefined>): Error | null {
  try {
    refuseWeakSecrets(nodeEnv, secrets);
    return null;
  } catch (err) {
    return err as Error;
  }
}

describe('production refuses published and placeholder secrets', () => {
  it.each(PUBLIC_SECRETS)('refuses the published value %#, naming the variable but not the value', (value) => {
    const err = refusal('production', { INTERNAL_AUTH_SECRET: value });
    expect(err?.message).toMatch(/^Invalid configuration:\n {2}INTERNAL_AUTH_SECRET: is a development value/);
    expect(err?.message).not.toContain(value);
  });

  it.each([
    ['a compose-style placeholder', 'please-change-me-before-deploying-this-thing'],
    ['an example value', 'example-secret-for-the-docs-0123456789'],
    ['a repeated character', 'x'.repeat(48)],
    ['a short pattern', 'abab'.repeat(12)],
  ])('refuses %s', (_what, value) => {
    const err = refusal('production', { SIGNING_KEY_SECRET: value });
    expect(err?.message).toContain('SIGNING_KEY_SECRET:');
    expect(err?.message).not.toContain(value);
  });

  it('lists every weak variable in one error, and only those', () => {
    const err = refusal('production', {
      INTERNAL_AUTH_SECRET: random(),
      SIGNING_KEY_SECRET: 'development-only-signing-key-secret-change-me!',
      OPS_CONSOLE_CLIENT_SECRET: 'ops-console-dev-secret',
      STOREFRONT_CLIENT_SECRET: undefined,
    });
    const named = err?.message
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(':')[0]);
    expect(named).toEqual(['SIGNING_KEY_SECRET', 'OPS_CONSOLE_CLIENT_SECRET']);
  });

  it('accepts random secrets in production, and anything outside it', () => {
    expect(weakSecretReason(random())).toBeNull();
    expect(weakSecretReason(randomBytes(24).toString('base64url'))).toBeNull();
    expect(refusal('production', { INTERNAL_AUTH_SECRET: random() })).toBeNull();
    for (const nodeEnv of ['development', 'test'])
      expect(refusal(nodeEnv, { INTERNAL_AUTH_SECRET: 'development-only-internal-secret-change-me!' })).toBeNull();
  });

  it('is applied to the internal-token secret every service resolves', () => {
    expect(() => resolveInternalSecret('production', 'change-me-to-a-long-random-secret-of-32-chars-or-more')).toThrow(
      /INTERNAL_AUTH_SECRET: is a development value/,
    );
    // Outside production the development default still works without any setting.
    expect(resolveInternalSecret('development', undefined)).toBe('development-only-internal-secret-change-me!');
    const mine = random();
    expect(resolveInternalSecret('production', mine)).toBe(mine);
  });
});
