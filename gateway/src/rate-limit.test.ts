import { describe, expect, it } from 'vitest';
import { createRateLimiter } from './rate-limit.ts';

describe('token bucket rate limiter', () => {
  const clock = () => {
    let t = 1_000_000;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  };

  it('allows a burst of the per-minute limit, then refuses with the wait until the next token', () => {
    const c = clock();
    const limiter = createRateLimiter({ now: c.now });
    for (let i = 0; i < 30; i++) expect(limiter.take('a', 30)).toEqual({ allowed: true });
    expect(limiter.take('a', 30)).toEqual({ allowed: false, retryAfterSeconds: 2 });
    c.advance(1_999);
    expect(limiter.take('a', 30).allowed).toBe(false);
    c.advance(1);
    expect(limiter.take('a', 30)).toEqual({ allowed: true });
  });

  it('keeps buckets apart', () => {
    const limiter = createRateLimiter();
    expect(limiter.take('a', 1).allowed).toBe(true);
    expect(limiter.take('a', 1).allowed).toBe(false);
    expect(limiter.take('b', 1).allowed).toBe(true);
  });

  it('refills to the limit and no further', () => {
    const c = clock();
    const limiter = createRateLimiter({ now: c.now });
    limiter.take('a', 2);
    c.advance(10 * 60_000);
    expect([limiter.take('a', 2), limiter.take('a', 2), limiter.take('a', 2)].map((d) => d.allowed)).toEqual([
      true,
      true,
      false,
    ]);
  });

  it('rounds retryAfter up to whole seconds, at least one', () => {
    const limiter = createRateLimiter({ now: () => 0 });
    limiter.take('fast', 6000);
    for (let i = 0; i < 6000; i++) limiter.take('fast', 6000);
    expect(limiter.take('fast', 6000)).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });

  it('forgets idle buckets when there are too many keys', () => {
    const c = clock();
    const limiter = createRateLimiter({ maxKeys: 10, now: c.now });
    for (let i = 0; i < 11; i++) limiter.take(`k${i}`, 60);
    c.advance(60_000);
    limiter.take('another', 60);
    expect(limiter.size).toBeLessThanOrEqual(10);
  });
});
