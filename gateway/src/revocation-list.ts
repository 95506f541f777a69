import type { KV, KvEntry } from 'nats';
import { KEYS_ROTATED_KEY, REVOKED_KEY_PREFIX } from '@orderflow/common/messaging';
import { type Logger } from '@orderflow/common/observability';

export interface RevocationListOptions {
  kv: KV;
  log: Logger;
  /** Called when the auth service announces a signing-key rotation. */
  onKeysRotated?: () => void;
  /** Called for each token revoked after start-up (e.g. to close its subscriptions). */
  onRevoked?: (jti: string) => void;
  /** How often expired entries are dropped from memory. Default one minute. */
  pruneIntervalMs?: number;
}

/**
 * The gateway's copy of the revoked access tokens: the whole revocation
 * bucket held in memory (jti → exp) and kept current by a KV watch, which
 * delivers a new revocation within milliseconds of the auth service putting
 * it. Checking a token is a Map look-up; no request waits on NATS or on the
 * auth database.
 *
 * While NATS is unreachable the list keeps what it had and the watch resumes
 * on reconnect; revocations made meanwhile apply from then on.
 */
export async function createRevocationList({
  kv,
  log,
  onKeysRotated,
  onRevoked,
  pruneIntervalMs = 60_000,
}: RevocationListOptions) {
  const revoked = new Map<string, number>();
  let initialized = false;
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const apply = (e: KvEntry) => {
    if (e.key.startsWith(REVOKED_KEY_PREFIX)) {
      // A delete or purge would un-revoke; nothing does that, and a token stays refused until its exp.
      if (e.operation !== 'PUT') return;
      const jti = e.key.slice(REVOKED_KEY_PREFIX.length);
      let exp = Math.floor(Date.now() / 1000) + 24 * 3600;
      try {
        const parsed = JSON.parse(e.string()) as { exp?: unknown };
        if (typeof parsed.exp === 'number') exp = parsed.exp;
      } catch {
        log.warn({ key: e.key }, 'malformed revocation entry: keeping it for a day');
      }
      revoked.set(jti, exp);
      if (initialized) onRevoked?.(jti);
    } else if (e.key === KEYS_ROTATED_KEY && initialized && e.operation === 'PUT') {
      onKeysRotated?.();
    }
  };

  const watch = await kv.watch({
    key: '>',
    initializedFn: () => {
      initialized = true;
      markReady();
    },
  });
  const done = (async () => {
    for await (const e of watch) apply(e);
  })().catch((err) => log.error({ err: (err as Error).message }, 'revocation watch ended'));

  const prune = setInterval(() => {
    const now = Math.floor(Date.now() / 1000);
    for (const [jti, exp] of revoked) if (exp < now) revoked.delete(jti);
  }, pruneIntervalMs);
  prune.unref();

  // Serve no request before the revocations made so far are known.
  await ready;
  log.info({ revoked: revoked.size }, 'revocation list loaded');

  return {
    isRevoked: (jti: string) => revoked.has(jti),
    get size() {
      return revoked.size;
    },
    async stop() {
      clearInterval(prune);
      watch.stop();
      await done;
    },
  };
}
export type RevocationList = Awaited<ReturnType<typeof createRevocationList>>;
