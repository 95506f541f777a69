import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

const random = () => randomBytes(32).toString('hex');
const production = { NODE_ENV: 'production', INTERNAL_AUTH_SECRET: random(), SIGNING_KEY_SECRET: random() };

describe('auth configuration', () => {
  it('registers the three development clients with their contract secrets outside production', () => {
    const c = loadConfig({ NODE_ENV: 'development' });
    expect(c.clients.map((x) => [x.id, x.secret, x.rateLimitPerMinute])).toEqual([
      ['storefront', 'storefront-dev-secret', 600],
      ['ops-console', 'ops-console-dev-secret', 6000],
      ['delivery-partner', 'delivery-partner-dev-secret', 1200],
    ]);
    expect(c.clients.find((x) => x.id === 'delivery-partner')!.allowedScopes).toEqual([
      'shipments:read',
      'shipments:write',
    ]);
  });

  it('has no development client or secret in production', () => {
    expect(loadConfig(production).clients).toEqual([]);
    expect(() => loadConfig({ ...production, SIGNING_KEY_SECRET: undefined })).toThrow(
      /SIGNING_KEY_SECRET: required in production/,
    );
    // Empty (compose's ${VAR:-}) is the same as unset.
    expect(loadConfig({ ...production, STOREFRONT_CLIENT_SECRET: '' }).clients).toEqual([]);
  });

  it('registers a production client only with a secret from the environment', () => {
    const fromTheVault = random();
    const c = loadConfig({ ...production, OPS_CONSOLE_CLIENT_SECRET: fromTheVault });
    expect(c.clients.map((x) => [x.id, x.secret])).toEqual([['ops-console', fromTheVault]]);
    expect(() => loadConfig({ ...production, OPS_CONSOLE_CLIENT_SECRET: 'short' })).toThrow(
      /OPS_CONSOLE_CLIENT_SECRET/,
    );
  });

  it.each([
    ['SIGNING_KEY_SECRET', 'change-me-to-another-long-random-secret-of-32-chars'],
    ['SIGNING_KEY_SECRET', 'development-only-signing-key-secret-change-me!'],
    ['INTERNAL_AUTH_SECRET', 'change-me-to-a-long-random-secret-of-32-chars-or-more'],
    ['OPS_CONSOLE_CLIENT_SECRET', 'ops-console-dev-secret'],
    ['STOREFRONT_CLIENT_SECRET', 'storefront-dev-secret'],
    ['DELIVERY_PARTNER_CLIENT_SECRET', 'delivery-partner-dev-secret'],
  ])('refuses to start in production with the published %s, naming it without its value', (variable, value) => {
    expect(() => loadConfig({ ...production, [variable]: value })).toThrow(
      new RegExp(`^Invalid configuration:\\n  ${variable}: `),
    );
    expect(() => loadConfig({ ...production, [variable]: value })).not.toThrow(value);
    // The same values are the defaults outside production.
    expect(() => loadConfig({ ...production, NODE_ENV: 'development', [variable]: value })).not.toThrow();
  });

  it('takes per-client rate limits', () => {
    const c = loadConfig({ OAUTH_CLIENT_RATE_LIMITS: 'delivery-partner=30, storefront=100' });
    expect(Object.fromEntries(c.clients.map((x) => [x.id, x.rateLimitPerMinute]))).toEqual({
      storefront: 100,
      'ops-console': 6000,
      'delivery-partner': 30,
    });
    expect(() => loadConfig({ OAUTH_CLIENT_RATE_LIMITS: 'nobody=5' })).toThrow(/OAUTH_CLIENT_RATE_LIMITS/);
    expect(() => loadConfig({ OAUTH_CLIENT_RATE_LIMITS: 'storefront=0' })).toThrow(/OAUTH_CLIENT_RATE_LIMITS/);
  });
});
