import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password (and client secret) hashing with Node's scrypt. Hashes are PHC
 * strings that carry their parameters — `$scrypt$ln=17,r=8,p=1$<salt>$<hash>`
 * (unpadded base64) — so the cost can be raised without breaking old hashes.
 *
 * The hash runs off the event loop, on libuv's thread pool (Node's async
 * scrypt). That pool is shared with file and DNS work and its queue has no
 * bound, so hashes go through slots of our own: at most `concurrency` at
 * once, at most `maxQueue` waiting, and a caller beyond that gets a
 * HashQueueFullError at once instead of a place in an ever longer line.
 * docs/decisions/001-password-work.md has the numbers.
 */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Constant-time comparison; false for a malformed stored hash. */
  verify(password: string, stored: string): Promise<boolean>;
  /**
   * The same work as a real verification, against nothing: answers for an
   * unknown email or client take as long as for a wrong password.
   */
  verifyNothing(password: string): Promise<false>;
  /** The stored hash was made with other parameters than today's (rehash it once the password is known good). */
  needsRehash(stored: string): boolean;
}

/** Every slot busy and the queue full: retry in a moment. Nothing was hashed. */
export class HashQueueFullError extends Error {
  readonly retryAfterSeconds = 1;
  constructor() {
    super('password hashing queue is full');
  }
}
export const isHashQueueFull = (err: unknown): err is HashQueueFullError => err instanceof HashQueueFullError;

export interface PasswordHasherOptions {
  /** log2 of scrypt's N (PASSWORD_HASH_COST). */
  cost: number;
  /** Hashes computed at once (PASSWORD_HASH_CONCURRENCY). Default 1. */
  concurrency?: number;
  /** Hashes waiting for a slot before callers are refused (PASSWORD_HASH_QUEUE). Default 4. */
  maxQueue?: number;
}

const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
const R = 8;
const P = 1;
const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function deriveKey(password: string, salt: Buffer, ln: number, r: number, p: number, length: number): Promise<Buffer> {
  const N = 2 ** ln;
  // Node refuses above 32 MiB by default; scrypt needs 128·N·r bytes.
  const options: ScryptOptions = { N, r, p, maxmem: 256 * N * r };
  return new Promise((resolve, reject) =>
    scrypt(password, salt, length, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');

/** Runs tasks at most `concurrency` at a time with at most `maxQueue` waiting; beyond that, HashQueueFullError. */
function createSlots(concurrency: number, maxQueue: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async function inSlot<T>(task: () => Promise<T>): Promise<T> {
    if (active < concurrency) active++;
    else if (waiting.length >= maxQueue) throw new HashQueueFullError();
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      // The slot passes straight to the next in line, or is freed.
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

export function createPasswordHasher({ cost, concurrency = 1, maxQueue = 4 }: PasswordHasherOptions): PasswordHasher {
  const dummySalt = randomBytes(SALT_LENGTH);
  const dummyHash = randomBytes(KEY_LENGTH);
  const inSlot = createSlots(concurrency, maxQueue);
  const derive = (password: string, salt: Buffer, ln: number, r: number, p: number, length: number) =>
    inSlot(() => deriveKey(password, salt, ln, r, p, length));

  async function verify(password: string, stored: string): Promise<boolean> {
    const m = PHC.exec(stored);
    if (!m) {
      await derive(password, dummySalt, cost, R, P, KEY_LENGTH);
      return false;
    }
    const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const salt = Buffer.from(m[4], 'base64');
    const expected = Buffer.from(m[5], 'base64');
    if (ln < 1 || ln > 24 || r < 1 || p < 1 || expected.length < 16) return false;
    const actual = await derive(password, salt, ln, r, p, expected.length);
    return timingSafeEqual(actual, expected);
  }

  return {
    async hash(password) {
      const salt = randomBytes(SALT_LENGTH);
      const key = await derive(password, salt, cost, R, P, KEY_LENGTH);
      return `$scrypt$ln=${cost},r=${R},p=${P}$${b64(salt)}$${b64(key)}`;
    },
    verify,
    async verifyNothing(password) {
      const actual = await derive(password, dummySalt, cost, R, P, KEY_LENGTH);
      timingSafeEqual(actual, dummyHash);
      return false;
    },
    needsRehash(stored) {
      const m = PHC.exec(stored);
      return !m || Number(m[1]) !== cost || Number(m[2]) !== R || Number(m[3]) !== P;
    },
  };
}
