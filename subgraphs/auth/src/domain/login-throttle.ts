/**
 * Throttling of password checks (customer log-ins and OAuth client
 * authentication), decided before any hash is computed so that a refusal
 * costs nothing. Policy and reasons: docs/decisions/001-password-work.md.
 *
 * Three token buckets, each holding `capacity` attempts and refilling
 * evenly over the window:
 *
 * - per (account, address): strict, the attacker's own budget on one account;
 * - per account, over every address: a looser cap against guessing from many
 *   addresses; an address that has logged in to the account before is exempt,
 *   so a distributed attack cannot lock the owner out of a device they use;
 * - per address, over every account: against one address trying passwords
 *   on many accounts.
 *
 * An attempt takes one token from each before the hash; a success gives them
 * back (only failures count), and so does an attempt that never hashed
 * (queue full, database down). Concurrent attempts therefore cannot overrun
 * a bucket: the ones beyond it are refused before they hash.
 *
 * State is in memory, per auth process: see the decision record.
 */

export interface LoginThrottleOptions {
  /** Failed attempts per (account, address) per window. */
  perAccountAddress: number;
  /** Failed attempts per account, from addresses that never logged in to it, per window. */
  perAccount: number;
  /** Failed attempts per address, over all accounts, per window. */
  perAddress: number;
  /** The window over which a bucket refills completely, in ms. */
  windowMs: number;
  /** How long an address stays known to an account after a successful log-in. Default 30 days. */
  knownAddressTtlMs?: number;
  /** Keys kept per bucket kind (and known addresses) before the oldest are dropped. Default 50,000. */
  maxKeys?: number;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
  /** Password checks of one address at once, shared with sign-ups (createInFlight). Default: no cap. */
  inFlight?: InFlight;
}

export type AttemptOutcome = 'success' | 'failure' | 'not-checked';

export type ThrottleDecision =
  | { allowed: true; /** Call once, when the check is over. */ settle(outcome: AttemptOutcome): void }
  | { allowed: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  updated: number;
}

/** Buckets of one kind: `capacity` tokens, refilled over `windowMs`. Absent key = full bucket. */
function createBuckets(capacity: number, windowMs: number, maxKeys: number) {
  const buckets = new Map<string, Bucket>();
  const perMs = capacity / windowMs;
  const level = (b: Bucket | undefined, at: number) =>
    b ? Math.min(capacity, b.tokens + (at - b.updated) * perMs) : capacity;

  function store(key: string, tokens: number, at: number) {
    // Re-inserted so that the map's order is least recently used first.
    buckets.delete(key);
    if (tokens >= capacity) return; // a full bucket is the same as none
    buckets.set(key, { tokens, updated: at });
    if (buckets.size > maxKeys) {
      for (const [k, b] of buckets) if (level(b, at) >= capacity) buckets.delete(k);
      for (const k of buckets.keys()) {
        if (buckets.size <= maxKeys) break;
        buckets.delete(k);
      }
    }
  }

  return {
    /** Milliseconds until `key` has a token (0: it has one now). */
    waitMs(key: string, at: number): number {
      const t = level(buckets.get(key), at);
      return t >= 1 ? 0 : Math.ceil((1 - t) / perMs);
    },
    take(key: string, at: number) {
      store(key, level(buckets.get(key), at) - 1, at);
    },
    give(key: string, at: number) {
      store(key, level(buckets.get(key), at) + 1, at);
    },
    get size() {
      return buckets.size;
    },
  };
}

/**
 * Password checks (log-ins, sign-ups) of one address under way at once. The
 * hashing queue is short (a few seconds of work) and shared by everyone: without
 * this cap, one address could fill it with the five attempts the buckets allow
 * it, and the owner at another address would be told to retry. Refused with
 * retryAfter 1.
 */
export function createInFlight(maxPerAddress: number) {
  const counts = new Map<string, number>();
  return {
    /** Takes a place for `address`; false when it has `maxPerAddress` already. */
    enter(address: string): boolean {
      const n = counts.get(address) ?? 0;
      if (n >= maxPerAddress) return false;
      counts.set(address, n + 1);
      return true;
    },
    leave(address: string) {
      const n = (counts.get(address) ?? 1) - 1;
      if (n <= 0) counts.delete(address);
      else counts.set(address, n);
    },
  };
}
export type InFlight = ReturnType<typeof createInFlight>;

const NO_CAP: InFlight = { enter: () => true, leave: () => {} };

export function createLoginThrottle({
  perAccountAddress,
  perAccount,
  perAddress,
  windowMs,
  knownAddressTtlMs = 30 * 24 * 3600_000,
  maxKeys = 50_000,
  now = Date.now,
  inFlight = NO_CAP,
}: LoginThrottleOptions) {
  const pair = createBuckets(perAccountAddress, windowMs, maxKeys);
  const account = createBuckets(perAccount, windowMs, maxKeys);
  const address = createBuckets(perAddress, windowMs, maxKeys);
  /** `account \n address` → until when the address counts as the account owner's. */
  const known = new Map<string, number>();

  const pairKey = (acc: string, addr: string) => `${acc}\n${addr}`;

  function isKnown(key: string, at: number): boolean {
    const until = known.get(key);
    if (until === undefined) return false;
    if (until > at) return true;
    known.delete(key);
    return false;
  }

  function remember(key: string, at: number) {
    known.delete(key);
    known.set(key, at + knownAddressTtlMs);
    for (const k of known.keys()) {
      if (known.size <= maxKeys) break;
      known.delete(k);
    }
  }

  return {
    /**
     * May `accountKey` be checked for a caller at `addressKey`? When allowed,
     * one token is taken from each bucket that applies until `settle`.
     */
    attempt(accountKey: string, addressKey: string): ThrottleDecision {
      const at = now();
      const pk = pairKey(accountKey, addressKey);
      const exempt = isKnown(pk, at);
      const wait = Math.max(
        pair.waitMs(pk, at),
        address.waitMs(addressKey, at),
        exempt ? 0 : account.waitMs(accountKey, at),
      );
      if (wait > 0) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)) };
      if (!inFlight.enter(addressKey)) return { allowed: false, retryAfterSeconds: 1 };
      pair.take(pk, at);
      address.take(addressKey, at);
      if (!exempt) account.take(accountKey, at);
      let settled = false;
      return {
        allowed: true,
        settle(outcome) {
          if (settled) return;
          settled = true;
          inFlight.leave(addressKey);
          if (outcome === 'failure') return;
          const later = now();
          pair.give(pk, later);
          address.give(addressKey, later);
          if (!exempt) account.give(accountKey, later);
          if (outcome === 'success') remember(pk, later);
        },
      };
    },
    /** Buckets and known addresses held (memory bound; tests). */
    get size() {
      return { buckets: pair.size + account.size + address.size, known: known.size };
    },
  };
}
export type LoginThrottle = ReturnType<typeof createLoginThrottle>;

/**
 * One bucket per address for sign-ups: every sign-up counts (it creates an
 * account and costs a hash), refused before the hash.
 */
export function createSignUpThrottle({
  perAddress,
  windowMs,
  maxKeys = 50_000,
  now = Date.now,
  inFlight = NO_CAP,
}: {
  perAddress: number;
  windowMs: number;
  maxKeys?: number;
  now?: () => number;
  inFlight?: InFlight;
}) {
  const buckets = createBuckets(perAddress, windowMs, maxKeys);
  return {
    attempt(addressKey: string): ThrottleDecision {
      const at = now();
      const wait = buckets.waitMs(addressKey, at);
      if (wait > 0) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)) };
      if (!inFlight.enter(addressKey)) return { allowed: false, retryAfterSeconds: 1 };
      buckets.take(addressKey, at);
      let settled = false;
      return {
        allowed: true,
        settle(outcome) {
          if (settled) return;
          settled = true;
          inFlight.leave(addressKey);
          if (outcome === 'not-checked') buckets.give(addressKey, now());
        },
      };
    },
  };
}
export type SignUpThrottle = ReturnType<typeof createSignUpThrottle>;

/**
 * The address key of a request: an IPv4 address as it is (also when written
 * IPv4-mapped, `::ffff:a.b.c.d`), an IPv6 address by its /64 — one
 * subscriber's network, whose 2^64 addresses would otherwise be as many
 * budgets. '-' stands for "not given" (a sibling service's call): one shared budget.
 */
export function addressKey(clientAddress: string | null | undefined): string {
  if (!clientAddress) return '-';
  const address = clientAddress.split('%')[0].toLowerCase().slice(0, 64);
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(address);
  if (mapped) return mapped[1];
  if (!address.includes(':')) return address;
  const [head, tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups =
    tail === undefined ? left : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return address;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** The account key of a customer (by normalized email, so unknown emails are throttled alike) or a client. */
export const accountKey = {
  customer: (normalizedEmail: string) => `user:${normalizedEmail}`,
  client: (clientId: string) => `client:${clientId.slice(0, 100)}`,
};
