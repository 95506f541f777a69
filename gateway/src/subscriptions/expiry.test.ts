import { afterEach, describe, expect, it, vi } from 'vitest';
import { createExpiryWheel } from './expiry.ts';

describe('the expiry wheel', () => {
  afterEach(() => vi.useRealTimers());

  it('closes each socket within a second after its expiry, with one timer per second of expiry', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const closed: string[] = [];
    const wheel = createExpiryWheel<string>((s) => closed.push(s));
    wheel.add('a', 1_005_100);
    wheel.add('b', 1_005_900);
    wheel.add('c', 1_009_000);
    wheel.add('gone', 1_009_000);
    expect(wheel.timers).toBe(2);
    wheel.delete('gone', 1_009_000);
    vi.advanceTimersByTime(5_099);
    expect(closed).toEqual([]);
    vi.advanceTimersByTime(901); // the end of second 1,006
    expect(closed).toEqual(['a', 'b']);
    vi.advanceTimersByTime(3_000);
    expect(closed).toEqual(['a', 'b', 'c']);
    expect(wheel.timers).toBe(0);
  });

  it('drops the timer of a second nobody is left in', () => {
    vi.useFakeTimers({ now: 0 });
    const wheel = createExpiryWheel<string>(() => expect.fail('nobody expires'));
    wheel.add('a', 10_000);
    wheel.delete('a', 10_000);
    expect(wheel.timers).toBe(0);
    vi.advanceTimersByTime(20_000);
  });
});
