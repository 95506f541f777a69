import { isRevocableTokenId, revokedTokenKey } from '@orderflow/common/messaging';
import { type Logger } from '@orderflow/common/observability';
import type { KV } from 'nats';
import type { Db } from '../db.ts';

/** An access token to refuse until it expires. */
export interface Revocation {
  jti: string;
  expiresAt: Date;
}

type Tx = Pick<Db, 'revokedToken'>;

/**
 * Records revocations in the caller's transaction; the relay puts them on
 * the NATS bucket after commit. Tokens already expired need nothing.
 */
export async function recordRevocations(tx: Tx, revocations: Revocation[]): Promise<void> {
  const now = Date.now();
  const live = revocations.filter((r) => r.expiresAt.getTime() > now && isRevocableTokenId(r.jti));
  if (live.length === 0) return;
  await tx.revokedToken.createMany({
    data: live.map((r) => ({ jti: r.jti, expiresAt: r.expiresAt })),
    skipDuplicates: true,
  });
}

export interface RevocationRelayOptions {
  db: Db;
  kv: KV;
  log: Logger;
  /** Safety-net poll when no request kicked the relay (NATS was down, a crash). Default 1 s. */
  intervalMs?: number;
}

const BATCH = 500;

/**
 * The outbox pattern for the revocation bucket: rows of `revoked_tokens`
 * not yet on NATS are put there and marked, in batches claimed with
 * FOR UPDATE SKIP LOCKED so replicas can run side by side. A revocation is
 * therefore never lost to a NATS outage: it is published once NATS is back.
 */
export function createRevocationRelay({ db, kv, log, intervalMs = 1_000 }: RevocationRelayOptions) {
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> | null = null;
  let again = false;
  let stopped = true;

  /**
   * Whether any revocation waits to be put on the bucket: one cheap indexed statement outside a transaction
   * (revoked_tokens_published_at_revoked_at_idx), so an idle relay's timed round costs one query instead of a
   * round's three (BEGIN, SELECT … FOR UPDATE SKIP LOCKED, COMMIT). A kicked round skips it.
   */
  async function anyWaiting(): Promise<boolean> {
    const [row] = await db.$queryRawUnsafe<{ waiting: boolean }[]>(
      `SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE published_at IS NULL) AS waiting`,
    );
    return row?.waiting === true;
  }

  async function relayOnce(): Promise<number> {
    return db.$transaction(async (tx) => {
      const rows = await tx.$queryRawUnsafe<{ jti: string; expires_at: Date }[]>(
        `SELECT jti, expires_at FROM revoked_tokens WHERE published_at IS NULL
         ORDER BY revoked_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
        BATCH,
      );
      if (rows.length === 0) return 0;
      const results = await Promise.allSettled(
        rows.map((r) =>
          kv.put(revokedTokenKey(r.jti), JSON.stringify({ exp: Math.ceil(r.expires_at.getTime() / 1000) })),
        ),
      );
      const done = rows.filter((_, i) => results[i].status === 'fulfilled').map((r) => r.jti);
      if (done.length)
        await tx.$executeRawUnsafe(`UPDATE revoked_tokens SET published_at = now() WHERE jti = ANY($1::text[])`, done);
      if (done.length < rows.length) {
        const reason = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as Error;
        log.warn(
          { failed: rows.length - done.length, err: reason?.message },
          'publishing revocations failed; will retry',
        );
        return 0;
      }
      return rows.length;
    });
  }

  /** A round: `kicked` (a commit wrote revocations) goes straight to the batch; a timed one asks first. */
  function run(kicked = true): Promise<void> {
    if (stopped) return Promise.resolve();
    // A round in progress may have read the table before the caller's commit: it goes round once more.
    if (current) {
      if (kicked) again = true;
      return current;
    }
    current = (async () => {
      try {
        again = false;
        if (!kicked && !(await anyWaiting()) && !again) return;
        do {
          again = false;
          while ((await relayOnce()) === BATCH && !stopped);
        } while (again && !stopped);
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'revocation relay round failed; retrying');
      } finally {
        current = null;
      }
    })();
    return current;
  }

  return {
    name: 'revocation-relay',
    start() {
      stopped = false;
      timer = setInterval(() => void run(false), intervalMs);
      void run();
    },
    /** Publishes what is pending now; resolves once that round is done. */
    kick: () => run(),
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await current;
    },
  };
}
export type RevocationRelay = ReturnType<typeof createRevocationRelay>;
