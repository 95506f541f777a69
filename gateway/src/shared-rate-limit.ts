import { createHash } from 'node:crypto';
import type { KV } from 'nats';
import type { Logger } from '@orderflow/common/observability';
import { RATE_LIMIT_BUCKET } from '@orderflow/contracts/nats-access';
import type { Bus } from '@orderflow/common/messaging';
import type { RateDecision, RateLimiter } from './rate-limit.ts';

/**
 * Rate limits shared by every gateway instance: each key's token bucket lives
 * in one NATS KV bucket, written with compare-and-set, so a client gets its
 * limit once however many gateways the balancer spreads it over.
 *
 * The bucket is stored as GCRA's "theoretical arrival time" (`tat`, ms since
 * the epoch): with `I = 60,000 / perMinute` ms per token, a bucket holds
 * `perMinute - (tat - now) / I` tokens, and taking `n` moves `tat` to
 * `max(tat, now) + n·I`. That is the token bucket of rate-limit.ts (a full
 * minute's burst, then the steady rate) in one number per key.
 *
 * **Leases**: a gateway does not ask the store for every request. It takes a
 * lease of `ceil(perMinute × leaseFraction)` tokens at once (default 1 %: 6
 * of the anonymous 600/min, 1 of 30/min) and spends them locally; only the
 * next lease is a round trip (one KV update, plus a read when another
 * gateway wrote the key since). Concurrent requests of one key wait on one
 * lease, which takes as many tokens as they need. Once the store says the
 * bucket is empty, the gateway refuses that key locally until the next
 * token is due: a flood costs the store nothing.
 *
 * **Tolerance**, with N gateways: leased tokens are taken from the shared
 * bucket when leased, so nothing is ever counted twice. A lease not yet
 * spent when the bucket refills lets a client exceed its burst by at most
 * one lease per gateway (N × 1 % of its limit); and a client may be refused
 * while other gateways still hold unspent leases of its key (at most
 * (N − 1) × 1 %). With 3 gateways: within ±3 % of the limit.
 *
 * **Fallback**: when the store fails (NATS unreachable, a timeout, a
 * refused permission), this gateway falls back to its own per-instance
 * buckets — the limits of before, N× across N gateways — logs it once, and
 * probes the store every `probeIntervalMs` in the background; when it
 * answers again, shared limits resume (logged once too). A request never
 * waits longer than the store's timeout for a decision.
 */
export interface SharedRateLimiterOptions {
  /** Opens the KV bucket (creating it when missing); called again after a failure. */
  openBucket: () => Promise<KV>;
  /** The per-instance buckets used while the store is unreachable. */
  fallback: RateLimiter;
  log: Logger;
  /** Share of a key's per-minute limit leased at once. Default 0.01 (1 %), at least one token. */
  leaseFraction?: number;
  /** Time between attempts to reach the store again after a failure. Default 5 s. */
  probeIntervalMs?: number;
  /** Keys whose leases this instance remembers before forgetting the idlest. Default 100,000. */
  maxKeys?: number;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
}

export interface SharedRateLimiter {
  /**
   * Takes one token from `key`'s shared bucket, whose size is `perMinute`: at once (no promise) when
   * this gateway holds a leased token or knows the bucket is empty, else after one lease.
   */
  take(key: string, perMinute: number): RateDecision | Promise<RateDecision>;
  /** `shared` while the store answers; `local` while this instance is on its own buckets. */
  mode(): 'shared' | 'local';
  close(): void;
}

/** One key's state on this instance. */
interface Lease {
  /** Tokens leased from the store and not yet spent. */
  tokens: number;
  /** The entry as this instance last wrote or read it: its `tat` and revision (0: no entry). */
  tat: number;
  revision: number;
  /** Whether `tat`/`revision` may be stale (another gateway wrote since): read before the next write. */
  stale: boolean;
  /** Until then the shared bucket is known to be empty: refuse without asking. */
  emptyUntil: number;
  /** Requests waiting for the lease under way. */
  waiting: number;
  pending: Promise<void> | null;
  lastUsed: number;
}

/** Conflicts on one key before a request gives up (another gateway keeps winning): refused, retry in 1 s. */
const MAX_CAS_ATTEMPTS = 8;

/** KV keys allow `[-/_=.A-Za-z0-9]`; rate keys hold `:` and addresses. A digest keeps them valid and says nothing of the client. */
const storeKey = (key: string) => createHash('sha256').update(key).digest('base64url');

/** The store's "wrong last sequence": another gateway wrote the entry since it was read. */
const isConflict = (err: unknown) => (err as { api_error?: { err_code?: number } })?.api_error?.err_code === 10071;

class StoreUnavailable extends Error {}

export function createSharedRateLimiter({
  openBucket,
  fallback,
  log,
  leaseFraction = 0.01,
  probeIntervalMs = 5_000,
  maxKeys = 100_000,
  now = Date.now,
}: SharedRateLimiterOptions): SharedRateLimiter {
  const leases = new Map<string, Lease>();
  let bucket: Promise<KV> | null = null;
  let mode: 'shared' | 'local' = 'shared';
  let nextProbe = 0;
  let probing = false;
  let takes = 0;
  let closed = false;

  const kv = () => (bucket ??= openBucket());

  function storeFailed(err: unknown) {
    bucket = null;
    nextProbe = now() + probeIntervalMs;
    if (mode === 'local') return;
    mode = 'local';
    log.warn(
      { err: (err as Error).message },
      'rate-limit store unreachable: per-instance rate limits until it answers again',
    );
  }

  function probe() {
    if (probing || closed || now() < nextProbe) return;
    probing = true;
    kv()
      .then((b) => b.get('probe'))
      .then(
        () => {
          mode = 'shared';
          log.info('rate-limit store reachable again: shared rate limits');
        },
        (err: unknown) => {
          bucket = null;
          nextProbe = now() + probeIntervalMs;
          log.debug({ err: (err as Error).message }, 'rate-limit store still unreachable');
        },
      )
      .finally(() => (probing = false));
  }

  /** Forgets idle keys (their unspent leases are lost: the client is under-, never over-counted). */
  function prune(at: number) {
    for (const [key, l] of leases) if (!l.pending && at - l.lastUsed > 60_000) leases.delete(key);
    for (const [key, l] of leases) {
      if (leases.size <= maxKeys) break;
      if (!l.pending) leases.delete(key);
    }
  }

  /** Takes up to `want` tokens from the shared bucket into `l`, or learns when its next token is due. */
  async function lease(key: string, l: Lease, perMinute: number, want: number) {
    const store = await kv().catch((err: unknown) => {
      throw new StoreUnavailable((err as Error).message, { cause: err });
    });
    const interval = 60_000 / perMinute;
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      try {
        if (l.stale) {
          const entry = await store.get(key);
          l.revision = entry && entry.operation === 'PUT' ? entry.revision : 0;
          l.tat = l.revision ? Number(entry!.string()) || 0 : 0;
          l.stale = false;
        }
        const at = now();
        const base = Math.max(l.tat, at);
        // Tokens in the bucket now (a hair of tolerance against float error).
        const available = Math.floor(perMinute - (base - at) / interval + 1e-9);
        if (available < 1) {
          // The next token is due once tat - t ≤ (perMinute - 1)·I.
          l.emptyUntil = base - (perMinute - 1) * interval;
          return;
        }
        const granted = Math.min(want, available);
        const tat = base + granted * interval;
        l.revision = l.revision
          ? await store.update(key, String(tat), l.revision)
          : await store.create(key, String(tat));
        l.tat = tat;
        l.tokens += granted;
        if (granted === available) l.emptyUntil = tat - (perMinute - 1) * interval;
        return;
      } catch (err) {
        if (!isConflict(err)) throw new StoreUnavailable((err as Error).message, { cause: err });
        l.stale = true;
      }
    }
  }

  const refused = (until: number, at: number): RateDecision => ({
    allowed: false,
    retryAfterSeconds: Math.max(1, Math.ceil((until - at) / 1000)),
  });

  /** Waits for leases until `l` has a token or the store says the bucket is empty. */
  async function takeLeased(rateKey: string, key: string, l: Lease, perMinute: number): Promise<RateDecision> {
    const leaseSize = Math.max(1, Math.ceil(perMinute * leaseFraction));
    for (let round = 0; round < MAX_CAS_ATTEMPTS; round++) {
      const at = now();
      l.lastUsed = at;
      if (l.tokens >= 1) {
        l.tokens -= 1;
        return { allowed: true };
      }
      if (at < l.emptyUntil) return refused(l.emptyUntil, at);
      if (!l.pending) {
        const state = l;
        // Enough for every request waiting on this key now, at least one lease.
        const want = Math.min(perMinute, Math.max(leaseSize, state.waiting + 1));
        state.pending = lease(key, state, perMinute, want).finally(() => (state.pending = null));
      }
      l.waiting++;
      try {
        await l.pending;
      } catch (err) {
        if (!(err instanceof StoreUnavailable)) throw err;
        storeFailed(err.cause ?? err);
        return fallback.take(rateKey, perMinute);
      } finally {
        l.waiting--;
      }
      // Another request's lease may have found the store gone meanwhile (TS cannot see the write).
      if ((mode as 'shared' | 'local') === 'local') return fallback.take(rateKey, perMinute);
    }
    // Other gateways kept winning the compare-and-set: the key is busy everywhere.
    return { allowed: false, retryAfterSeconds: 1 };
  }

  return {
    take(rateKey, perMinute) {
      if (mode === 'local') {
        probe();
        return fallback.take(rateKey, perMinute);
      }
      const key = storeKey(rateKey);
      let l = leases.get(key);
      if (!l) {
        if (++takes >= 10_000 || leases.size >= maxKeys) {
          takes = 0;
          prune(now());
        }
        // Assumed new (a full bucket, no entry): the first lease is one create; a key another gateway
        // already holds answers "wrong last sequence", and is then read and updated.
        l = { tokens: 0, tat: 0, revision: 0, stale: false, emptyUntil: 0, waiting: 0, pending: null, lastUsed: 0 };
        leases.set(key, l);
      }
      // The common case answers synchronously, exactly as the per-instance buckets did.
      const at = now();
      if (l.tokens >= 1 && !l.pending) {
        l.lastUsed = at;
        l.tokens -= 1;
        return { allowed: true };
      }
      if (at < l.emptyUntil && l.tokens < 1) return refused(l.emptyUntil, at);
      return takeLeased(rateKey, key, l, perMinute);
    },
    mode: () => mode,
    close() {
      closed = true;
    },
  };
}

/**
 * Opens (creating when missing) this deployment's rate-limit bucket. Its
 * `max_age` is 2 minutes: an entry's `tat` is at most a minute ahead of the
 * write, so an expired entry is a full bucket, exactly what a missing one
 * means. A bucket-wide TTL, which NATS 2.9 honours.
 *
 * @param timeoutMs Longest wait for one store call before the gateway falls back to its own buckets.
 */
export async function openRateLimitBucket(
  bus: Bus,
  { replicas = 1, timeoutMs }: { replicas?: number; timeoutMs: number },
): Promise<KV> {
  const js = bus.nc.jetstream({ timeout: timeoutMs });
  const ttl = 2 * 60_000;
  const kv = await js.views.kv(bus.stream(RATE_LIMIT_BUCKET), { history: 1, ttl, replicas, timeout: timeoutMs });
  const status = await kv.status();
  if (status.ttl !== ttl || status.replicas !== replicas) {
    const jsm = await js.jetstreamManager();
    const { config } = status.streamInfo;
    await jsm.streams.update(config.name, { ...config, max_age: ttl * 1_000_000, num_replicas: replicas });
  }
  return kv;
}
