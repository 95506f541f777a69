import type { Logger } from '@orderflow/common/observability';
import type { Db } from '../db.ts';
import type { SigningKeyStore } from './signing-keys.ts';

/**
 * Deletes what can no longer matter: refresh tokens a day past expiry,
 * revocations of tokens that have expired (published ones only: NATS ages
 * them out itself), and retired keys none of whose tokens is still valid.
 */
export function createHousekeeping({
  db,
  keys,
  log,
  intervalMs = 3_600_000,
}: {
  db: Db;
  keys: SigningKeyStore;
  log: Logger;
  intervalMs?: number;
}) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | null = null;

  async function sweep() {
    const dayAgo = new Date(Date.now() - 24 * 3600_000);
    const refresh = await db.refreshToken.deleteMany({ where: { expiresAt: { lt: dayAgo } } });
    const revoked = await db.revokedToken.deleteMany({
      where: { expiresAt: { lt: new Date() }, publishedAt: { not: null } },
    });
    const retiredKeys = await keys.prune();
    if (refresh.count || revoked.count || retiredKeys)
      log.info({ refresh: refresh.count, revoked: revoked.count, retiredKeys }, 'expired credentials deleted');
  }

  return {
    name: 'housekeeping',
    start() {
      const run = () => {
        running ??= sweep()
          .catch((err) => log.warn({ err: (err as Error).message }, 'housekeeping failed'))
          .finally(() => (running = null));
      };
      timer = setInterval(run, intervalMs);
      timer.unref();
      run();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
