import { describe, expect, it } from 'vitest';
import { isValidTransition } from './shipment-status.ts';

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
