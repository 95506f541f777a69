import { describe, expect, it } from 'vitest';
import type { Viewer } from '@orderflow/common/server';
import { createPayloadSharing, viewerIdentityKey } from './payload-sharing.ts';

describe('payload sharing', () => {
  it('runs one execution per key while it is shareable, then runs again', async () => {
    let clock = 0;
    const share = createPayloadSharing<string>({ windowMs: 1_000, now: () => clock });
    let runs = 0;
    const execute = async () => `result ${++runs}`;
    const first = await Promise.all([share('k', execute), share('k', execute), share('k', execute)]);
    expect(first).toEqual(['result 1', 'result 1', 'result 1']);
    expect(await share('other', execute)).toBe('result 2');
    clock = 1_500; // next window: still shared
    expect(await share('k', execute)).toBe('result 1');
    clock = 2_000; // two windows on: forgotten
    expect(await share('k', execute)).toBe('result 3');
  });

  it('shares a failure with those who waited for it, and forgets it like a result', async () => {
    let clock = 0;
    const share = createPayloadSharing<string>({ windowMs: 100, now: () => clock });
    const failing = () => Promise.reject(new Error('subgraph down'));
    await expect(Promise.all([share('k', failing), share('k', failing)])).rejects.toThrow('subgraph down');
    clock = 250;
    expect(await share('k', async () => 'recovered')).toBe('recovered');
  });

  it('keys viewers by everything the subgraphs see of them', () => {
    const alice: Viewer = {
      id: 'u1',
      clientId: 'storefront',
      kind: 'customer',
      scopes: new Set(['orders:read', 'shipments:read']),
      tokenId: 't1',
      tokenExpiresAt: 10,
    };
    expect(viewerIdentityKey({ ...alice, scopes: new Set(['shipments:read', 'orders:read']) })).toBe(
      viewerIdentityKey(alice),
    );
    expect(viewerIdentityKey({ ...alice, scopes: new Set(['orders:read']) })).not.toBe(viewerIdentityKey(alice));
    expect(viewerIdentityKey({ ...alice, tokenId: 't2' })).not.toBe(viewerIdentityKey(alice));
    expect(viewerIdentityKey({ ...alice, id: 'u2' })).not.toBe(viewerIdentityKey(alice));
    expect(viewerIdentityKey(null)).not.toBe(viewerIdentityKey(alice));
  });
});
