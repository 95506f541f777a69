/**
 * Token buckets in memory, one per key (a client's caller, or an IP): each
 * holds up to `perMinute` tokens and refills at `perMinute / 60` per second,
 * so a client may burst its whole minute and then goes at its steady rate.
 *
 * Per gateway instance: with N instances behind a balancer a client would get
 * up to N times its limit, so HTTP requests take their tokens from the
 * buckets every gateway shares (shared-rate-limit.ts), and these are its
 * fallback while that store is unreachable. WebSocket upgrades and subscribe
 * messages, which cannot wait for a store, use these directly.
 */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** Where a request takes its token: these per-instance buckets, or the shared ones (which answer asynchronously). */
export interface RequestRateLimiter {
  take(key: string, perMinute: number): RateDecision | Promise<RateDecision>;
}

export interface RateLimiterOptions {
  /** Keys kept before idle (full) buckets are dropped. Default 100,000. */
  maxKeys?: number;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  updated: number;
  perMinute: number;
}

export function createRateLimiter({ maxKeys = 100_000, now = Date.now }: RateLimiterOptions = {}) {
  const buckets = new Map<string, Bucket>();
  let takesSincePrune = 0;

  const refilled = (b: Bucket, at: number) =>
    Math.min(b.perMinute, b.tokens + ((at - b.updated) * b.perMinute) / 60_000);

  /** Forgets buckets that have refilled completely: they behave exactly like new ones. */
  function prune(at: number) {
    for (const [key, b] of buckets) if (refilled(b, at) >= b.perMinute) buckets.delete(key);
    // Still too many (a flood of distinct keys): drop the oldest.
    for (const key of buckets.keys()) {
      if (buckets.size <= maxKeys) break;
      buckets.delete(key);
    }
  }

  return {
    /** Takes one token from `key`'s bucket, whose size is `perMinute`. */
    take(key: string, perMinute: number): RateDecision {
      const at = now();
      if (++takesSincePrune >= 10_000 || buckets.size > maxKeys) {
        takesSincePrune = 0;
        prune(at);
      }
      let b = buckets.get(key);
      if (!b) {
        b = { tokens: perMinute, updated: at, perMinute };
        buckets.set(key, b);
      } else {
        // A changed limit (a new token of the same client) applies from now on.
        b.perMinute = perMinute;
        b.tokens = refilled(b, at);
        b.updated = at;
      }
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return { allowed: true };
      }
      const msPerToken = 60_000 / perMinute;
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(((1 - b.tokens) * msPerToken) / 1000)) };
    },
    get size() {
      return buckets.size;
    },
  };
}
export type RateLimiter = ReturnType<typeof createRateLimiter>;
