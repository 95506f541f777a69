// Every service, started with NODE_ENV=production, refuses a secret that is
// published (development defaults, README and compose placeholders) or chosen
// by hand, and its error names the variable without printing the value
// (packages/common/src/secrets.ts).
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig as gatewayConfig } from '../gateway/src/config.ts';
import { loadConfig as authConfig } from '../subgraphs/auth/src/config.ts';
import { loadConfig as ordersConfig } from '../subgraphs/orders/src/config.ts';
import { loadConfig as productsConfig } from '../subgraphs/products/src/config.ts';
import { loadConfig as shipmentsConfig } from '../subgraphs/shipments/src/config.ts';

const random = () => randomBytes(32).toString('hex');

/** What an operator sets for a service in production: a random value for every secret it reads. */
const production = () => ({
  NODE_ENV: 'production',
  INTERNAL_AUTH_SECRET: random(),
  SIGNING_KEY_SECRET: random(),
  NATS_USER: 'svc',
  NATS_PASSWORD: random(),
});

const SERVICES: [string, (env: NodeJS.ProcessEnv) => unknown][] = [
  ['gateway', gatewayConfig],
  ['auth', authConfig],
  ['products', productsConfig],
  ['orders', ordersConfig],
  ['shipments', shipmentsConfig],
];

/** The message a loader throws, or null. */
function refusal(load: (env: NodeJS.ProcessEnv) => unknown, env: NodeJS.ProcessEnv): string | null {
  try {
    load(env);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

describe('production refuses known secrets in every service', () => {
  it.each(SERVICES)('%s starts with random secrets', (_name, load) => {
    expect(refusal(load, production())).toBeNull();
  });

  it.each(SERVICES)('%s refuses a missing or published INTERNAL_AUTH_SECRET', (_name, load) => {
    expect(refusal(load, { ...production(), INTERNAL_AUTH_SECRET: undefined })).toMatch(
      /INTERNAL_AUTH_SECRET: required in production/,
    );
    const published = 'change-me-to-a-long-random-secret-of-32-chars-or-more';
    const message = refusal(load, { ...production(), INTERNAL_AUTH_SECRET: published });
    expect(message).toMatch(/^Invalid configuration:\n {2}INTERNAL_AUTH_SECRET: is a development value/);
    expect(message).not.toContain(published);
  });

  it.each(SERVICES)('%s refuses a NATS password chosen by hand', (_name, load) => {
    for (const weak of ['orderflow-nats-password', 'natssecret2024!', 'aaaaaaaaaaaaaaaaaaaaaaaa']) {
      const message = refusal(load, { ...production(), NATS_PASSWORD: weak });
      expect(message, weak).toMatch(/NATS_PASSWORD: /);
      expect(message, weak).not.toContain(weak);
    }
  });

  it('the same values still work outside production (npm start, tests)', () => {
    for (const [, load] of SERVICES)
      expect(
        refusal(load, {
          NODE_ENV: 'development',
          INTERNAL_AUTH_SECRET: 'change-me-to-a-long-random-secret-of-32-chars-or-more',
          NATS_PASSWORD: 'orderflow-nats-password',
        }),
      ).toBeNull();
  });
});
