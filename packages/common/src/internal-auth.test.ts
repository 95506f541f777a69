import { SignJWT } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InternalAuthError, createInternalAuth } from './internal-auth.ts';
import type { Viewer } from './viewer.ts';

const secret = 'x'.repeat(32);
const customer: Viewer = {
  id: 'c1',
  clientId: 'storefront',
  kind: 'customer',
  scopes: new Set(['orders:create']),
  tokenId: 'jti-1',
  tokenExpiresAt: 2_000_000_000,
};

afterEach(() => void vi.useRealTimers());

// A verified token is kept until its exp (so the same token is not checked again on every request):
// what follows checks that keeping it changes nothing a caller could notice.
describe('internal auth: verified tokens kept until they expire', () => {
  it('answers the same viewer for a token seen before, each request its own object', async () => {
    const auth = createInternalAuth({ secret, issuer: 'gateway' });
    const token = await auth.sign(customer);
    const first = await auth.verify(token);
    expect(first).toMatchObject({ id: 'c1', clientId: 'storefront', kind: 'customer', tokenId: 'jti-1' });
    expect([...first!.scopes]).toEqual(['orders:create']);
    (first as { id: string }).id = 'someone-else';
    expect(await auth.verify(token)).toMatchObject({ id: 'c1', tokenId: 'jti-1' });
  });

  it('refuses a token once it has expired, although it was accepted before', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const auth = createInternalAuth({ secret, issuer: 'gateway' });
    const token = await auth.sign(customer);
    expect((await auth.verify(token))?.id).toBe('c1');
    vi.setSystemTime(Date.now() + 59_000);
    expect((await auth.verify(token))?.id).toBe('c1');
    vi.setSystemTime(Date.now() + 2_000); // past the 60 s lifetime
    await expect(auth.verify(token)).rejects.toBeInstanceOf(InternalAuthError);
  });

  it('still refuses a token signed with another secret, or altered, next to an accepted one', async () => {
    const auth = createInternalAuth({ secret, issuer: 'gateway' });
    const good = await auth.sign(customer);
    await auth.verify(good);
    const forged = await createInternalAuth({ secret: 'y'.repeat(32), issuer: 'gateway' }).sign(customer);
    await expect(auth.verify(forged)).rejects.toBeInstanceOf(InternalAuthError);
    const [h, p, s] = good.split('.');
    await expect(auth.verify(`${h}.${p}.${s.slice(0, -2)}AA`)).rejects.toBeInstanceOf(InternalAuthError);
    const anonymous = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setAudience('orderflow-internal')
      .setExpirationTime('60s')
      .sign(new TextEncoder().encode(secret));
    expect(await auth.verify(anonymous)).toBeNull();
    expect(await auth.verify(anonymous)).toBeNull();
  });
});
