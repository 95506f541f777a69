import { describe, expect, it } from 'vitest';
import { createPasswordHasher } from './passwords.ts';

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
});
