import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password (and client secret) hashing with Node's scrypt. Hashes are PHC
 * strings that carry their parameters — `$scrypt$ln=15,r=8,p=1$<salt>$<hash>`
 * (unpadded base64) — so the cost can be raised without breaking old hashes.
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
}

const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
const R = 8;
const P = 1;
const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function derive(password: string, salt: Buffer, ln: number, r: number, p: number, length: number): Promise<Buffer> {
  const N = 2 ** ln;
  // Node refuses above 32 MiB by default; scrypt needs 128·N·r bytes.
  const options: ScryptOptions = { N, r, p, maxmem: 256 * N * r };
  return new Promise((resolve, reject) =>
    scrypt(password, salt, length, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');

/** @param cost log2 of scrypt's N (PASSWORD_HASH_COST). */
export function createPasswordHasher({ cost }: { cost: number }): PasswordHasher {
  const dummySalt = randomBytes(SALT_LENGTH);
  const dummyHash = randomBytes(KEY_LENGTH);

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
  };
}
