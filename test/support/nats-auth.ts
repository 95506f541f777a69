import { openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { NATS_ADMIN_USER, type NatsPasswords, type NatsUser } from '@orderflow/contracts/nats-access';

/**
 * A NATS_PREFIX of the run's pool that no other system of this run uses: the run's nats-server grants
 * each service's user the subjects of exactly these prefixes (test/support/global-setup.ts). Claimed
 * with an exclusive file create, so parallel test files never share one.
 */
export function claimNatsPrefix(): string {
  const { prefixes, claimDir } = inject('natsAuth');
  for (const prefix of prefixes) {
    try {
      closeSync(openSync(join(claimDir, prefix), 'wx'));
      return prefix;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new Error(
    `all ${prefixes.length} NATS prefixes of this run are taken: raise NATS_PREFIX_POOL in global-setup.ts`,
  );
}

/** The run's NATS passwords (its server's users). */
export const runNatsPasswords = (): NatsPasswords => inject('natsAuth').passwords;

/** A service's NATS_USER and NATS_PASSWORD. */
export const natsServiceEnv = (passwords: NatsPasswords, user: NatsUser) => ({
  NATS_USER: user,
  NATS_PASSWORD: passwords[user],
});

/** `connect()` options of the operator (every subject): for a test's own look at streams and consumers. */
export const natsAdminOptions = (url: string, passwords: NatsPasswords = runNatsPasswords()) => ({
  servers: url.split(','),
  user: NATS_ADMIN_USER,
  pass: passwords[NATS_ADMIN_USER],
});
