import { describe, expect, it } from 'vitest';
import { formatCents, parseCents } from './money.ts';

describe('money', () => {
  it('round-trips decimal strings through cents exactly', () => {
    for (const s of ['0.01', '19.99', '20.00', '1234567.89']) expect(formatCents(parseCents(s)!)).toBe(s);
    expect(parseCents('19.9')).toBe(1990);
    expect(parseCents('20')).toBe(2000);
  });
  it('never goes through floats', () => expect(formatCents(parseCents('0.1')! + parseCents('0.2')!)).toBe('0.30'));
});
