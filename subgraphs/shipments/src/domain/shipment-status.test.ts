import { describe, expect, it } from 'vitest';
import { isValidTransition, previousStatus } from './shipment-status.ts';

describe('isValidTransition', () => {
  it('moves forward one step at a time', () => {
    expect(isValidTransition('PROCESSING', 'SHIPPED')).toBe(true);
    expect(isValidTransition('SHIPPED', 'IN_TRANSIT')).toBe(true);
    expect(isValidTransition('IN_TRANSIT', 'DELIVERED')).toBe(true);
  });
  it('never backwards, sideways or skipping', () => {
    expect(isValidTransition('SHIPPED', 'PROCESSING')).toBe(false);
    expect(isValidTransition('PROCESSING', 'DELIVERED')).toBe(false);
    expect(isValidTransition('DELIVERED', 'DELIVERED')).toBe(false);
    expect(isValidTransition('PROCESSING', 'CANCELLED')).toBe(false);
  });
});

describe('previousStatus', () => {
  it('is the one status from which a move to the given one is valid', () => {
    const all = ['PROCESSING', 'SHIPPED', 'IN_TRANSIT', 'DELIVERED', 'CANCELLED'] as const;
    for (const to of all) {
      const from = previousStatus(to);
      expect(all.filter((s) => isValidTransition(s, to))).toEqual(from ? [from] : []);
    }
  });
  it('is null where no move leads', () => {
    expect(previousStatus('PROCESSING')).toBeNull();
    expect(previousStatus('CANCELLED')).toBeNull();
  });
});
