import { describe, expect, it } from 'vitest';
import { createPasswordHasher, isHashQueueFull } from './passwords.ts';

describe('password hashing', () => {
  const hasher = createPasswordHasher({ cost: 10 });

  it('verifies the password it hashed, with a fresh salt each time', async () => {
    const a = await hasher.hash('correct horse');
    const b = await hasher.hash('correct horse');
    expect(a).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(a).not.toBe(b);
    expect(await hasher.verify('correct horse', a)).toBe(true);
    expect(await hasher.verify('correct horsf', a)).toBe(false);
    expect(a).not.toContain('correct');
  });

  it('verifies hashes made with another cost (their parameters travel with them)', async () => {
    const old = await createPasswordHasher({ cost: 11 }).hash('pw-123456');
    expect(await hasher.verify('pw-123456', old)).toBe(true);
  });

  it('says false for a malformed stored hash and for nothing', async () => {
    expect(await hasher.verify('x', 'plaintext')).toBe(false);
    expect(await hasher.verifyNothing('x')).toBe(false);
  });

  it('says which stored hashes were made with other parameters', async () => {
    expect(hasher.needsRehash(await hasher.hash('x'))).toBe(false);
    expect(hasher.needsRehash(await createPasswordHasher({ cost: 11 }).hash('x'))).toBe(true);
    expect(hasher.needsRehash('plaintext')).toBe(true);
  });

  it('hashes one at a time with a bounded queue, and refuses beyond it at once without hashing', async () => {
    const bounded = createPasswordHasher({ cost: 12, concurrency: 1, maxQueue: 3 });
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => bounded.hash('pw-123456')));
    const refused = results.filter((r) => r.status === 'rejected');
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(4); // one running, three waiting
    expect(refused).toHaveLength(4);
    for (const r of refused) expect(isHashQueueFull((r as PromiseRejectedResult).reason)).toBe(true);
    // The slots are free again afterwards.
    expect(await bounded.verify('pw-123456', await bounded.hash('pw-123456'))).toBe(true);
  });
});
