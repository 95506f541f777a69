import { describe, expect, it } from 'vitest';
import {
  addressKey,
  createInFlight,
  createLoginThrottle,
  createSignUpThrottle,
  type ThrottleDecision,
} from './login-throttle.ts';

const clock = () => {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
};

/** 5 per (account, address), 20 per account, 30 per address, over 5 minutes (the defaults). */
const throttle = (now: () => number, extra = {}) =>
  createLoginThrottle({ perAccountAddress: 5, perAccount: 20, perAddress: 30, windowMs: 300_000, now, ...extra });

const fail = (d: ThrottleDecision) => {
  expect(d.allowed).toBe(true);
  if (d.allowed) d.settle('failure');
};

describe('login throttle', () => {
  it('refuses the sixth failure of one account from one address, with the wait until the next attempt', () => {
    const c = clock();
    const t = throttle(c.now);
    for (let i = 0; i < 5; i++) fail(t.attempt('user:a', '10.0.0.1'));
    expect(t.attempt('user:a', '10.0.0.1')).toEqual({ allowed: false, retryAfterSeconds: 60 });
    c.advance(59_000);
    expect(t.attempt('user:a', '10.0.0.1').allowed).toBe(false);
    c.advance(1_000);
    fail(t.attempt('user:a', '10.0.0.1'));
    expect(t.attempt('user:a', '10.0.0.1').allowed).toBe(false);
  });

  it('counts only failures: successes and attempts that were never checked give their tokens back', () => {
    const t = throttle(clock().now);
    for (let i = 0; i < 50; i++) {
      const d = t.attempt('user:a', '10.0.0.1');
      expect(d.allowed).toBe(true);
      if (d.allowed) d.settle(i % 2 ? 'success' : 'not-checked');
    }
    expect(t.size.buckets).toBe(0);
  });

  it('lets one address have only so many checks under way at once, sign-ups included', () => {
    const inFlight = createInFlight(2);
    const t = throttle(clock().now, { inFlight });
    const signUps = createSignUpThrottle({ perAddress: 10, windowMs: 60_000, inFlight });
    const first = t.attempt('user:a', 'busy');
    const second = signUps.attempt('busy');
    expect([first.allowed, second.allowed]).toEqual([true, true]);
    expect(t.attempt('user:b', 'busy')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(t.attempt('user:a', 'elsewhere').allowed).toBe(true);
    if (first.allowed) first.settle('failure');
    expect(signUps.attempt('busy').allowed).toBe(true);
  });

  it('holds concurrent attempts to the bucket: tokens are taken before the check, not after', () => {
    const t = throttle(clock().now);
    const inFlight = Array.from({ length: 60 }, () => t.attempt('user:a', '10.0.0.1'));
    expect(inFlight.filter((d) => d.allowed)).toHaveLength(5);
  });

  it('leaves the owner at another address alone while one address attacks the account', () => {
    const c = clock();
    const t = throttle(c.now);
    // An hour of attack at the pace the attacker is allowed (5, then one a minute).
    for (let minute = 0; minute < 60; minute++, c.advance(60_000))
      for (let i = 0; i < 10; i++) {
        const d = t.attempt('user:owner', '10.6.6.6');
        if (d.allowed) d.settle('failure');
      }
    expect(t.attempt('user:owner', '10.0.0.2').allowed).toBe(true);
  });

  it('caps an account over many addresses, but not for an address that logged in to it before', () => {
    const t = throttle(clock().now);
    const home = t.attempt('user:owner', 'home');
    if (home.allowed) home.settle('success');
    for (let i = 0; i < 20; i++) fail(t.attempt('user:owner', `bot-${i}`));
    const fresh = t.attempt('user:owner', 'bot-new');
    expect(fresh).toEqual({ allowed: false, retryAfterSeconds: 15 });
    expect(t.attempt('user:owner', 'home').allowed).toBe(true);
    // Other accounts are not affected.
    expect(t.attempt('user:other', 'bot-new').allowed).toBe(true);
  });

  it('caps one address over many accounts', () => {
    const t = throttle(clock().now);
    for (let i = 0; i < 30; i++) fail(t.attempt(`user:${i}`, 'sprayer'));
    expect(t.attempt('user:new', 'sprayer')).toEqual({ allowed: false, retryAfterSeconds: 10 });
    expect(t.attempt('user:new', 'someone-else').allowed).toBe(true);
  });

  it('forgets a known address after its time', () => {
    const c = clock();
    const t = throttle(c.now, { knownAddressTtlMs: 1_000 });
    const home = t.attempt('user:owner', 'home');
    if (home.allowed) home.settle('success');
    for (let i = 0; i < 20; i++) fail(t.attempt('user:owner', `bot-${i}`));
    c.advance(1_001);
    expect(t.attempt('user:owner', 'home').allowed).toBe(false);
  });

  it('keeps at most maxKeys entries of each kind', () => {
    const t = throttle(clock().now, { maxKeys: 100 });
    for (let i = 0; i < 1_000; i++) {
      const d = t.attempt(`user:${i}`, `addr-${i}`);
      if (d.allowed) d.settle(i % 2 ? 'failure' : 'success');
    }
    expect(t.size.buckets).toBeLessThanOrEqual(300);
    expect(t.size.known).toBeLessThanOrEqual(100);
  });
});

describe('sign-up throttle', () => {
  it('counts every sign-up of an address, but not one that never hashed', () => {
    const t = createSignUpThrottle({ perAddress: 2, windowMs: 60_000, now: clock().now });
    const first = t.attempt('a');
    if (first.allowed) first.settle('not-checked');
    for (let i = 0; i < 2; i++) {
      const d = t.attempt('a');
      expect(d.allowed).toBe(true);
      if (d.allowed) d.settle('success');
    }
    expect(t.attempt('a')).toEqual({ allowed: false, retryAfterSeconds: 30 });
    expect(t.attempt('b').allowed).toBe(true);
  });
});

describe('address keys', () => {
  it.each([
    ['127.0.0.3', '127.0.0.3'],
    ['::ffff:127.0.0.3', '127.0.0.3'],
    ['2001:db8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002::1', '2001:db8:1:2::/64'],
    ['2001:DB8:1:2::ffff%eth0', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    [null, '-'],
    ['', '-'],
  ])('%s → %s', (address, key) => {
    expect(addressKey(address)).toBe(key);
  });
});
