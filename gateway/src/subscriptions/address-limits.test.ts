import { describe, expect, it } from 'vitest';
import { createConnectionCounter } from './address-limits.ts';

describe('createConnectionCounter', () => {
  it('admits up to the limit per address, independently of other addresses', () => {
    const c = createConnectionCounter(2);
    expect(c.open('127.0.0.3')).toBe(true);
    expect(c.open('127.0.0.3')).toBe(true);
    expect(c.open('127.0.0.3')).toBe(false);
    expect(c.of('127.0.0.3')).toBe(2);
    expect(c.open('127.0.0.2')).toBe(true);
  });

  it('admits again once a socket is released, and forgets an address with none', () => {
    const c = createConnectionCounter(1);
    expect(c.open('a')).toBe(true);
    expect(c.open('a')).toBe(false);
    c.release('a');
    expect(c.addresses).toBe(0);
    expect(c.open('a')).toBe(true);
    c.release('a');
    c.release('a'); // a stray release never goes negative
    expect(c.of('a')).toBe(0);
    expect(c.open('a')).toBe(true);
  });
});
