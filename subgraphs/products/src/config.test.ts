import { describe, expect, it } from 'vitest';
import { placeOrderWorstCaseMs } from '@orderflow/contracts';
import { loadConfig } from './config.ts';

describe('products configuration: the reservation deadline', () => {
  it('defaults to a deadline above the longest placeOrder (60 s against 3 × 5 s calls, backoffs and the order write)', () => {
    const c = loadConfig({});
    expect(c.RESERVATION_DEADLINE_MS).toBe(60_000);
    expect(placeOrderWorstCaseMs(c.INVENTORY_TIMEOUT_MS)).toBe(3 * 5_000 + 2 * 1_000 + 10_000 + 15_000);
    expect(c.RESERVATION_DEADLINE_MS).toBeGreaterThan(placeOrderWorstCaseMs(c.INVENTORY_TIMEOUT_MS));
  });

  it('refuses to start with a deadline an in-flight placeOrder could outlast, saying why', () => {
    // Above the old floor of 1 s, but below 42 s: the sweeper could release stock under an order being written.
    expect(() => loadConfig({ RESERVATION_DEADLINE_MS: '20000' })).toThrow(
      /Invalid configuration:\n {2}RESERVATION_DEADLINE_MS: must be greater than 42000 \(got 20000\).*3 reservation attempts × INVENTORY_TIMEOUT_MS 5000/,
    );
    // At the worst case exactly: an order committed in its last millisecond would still lose its stock.
    expect(() => loadConfig({ RESERVATION_DEADLINE_MS: '42000' })).toThrow(
      /RESERVATION_DEADLINE_MS: must be greater than 42000/,
    );
    expect(loadConfig({ RESERVATION_DEADLINE_MS: '42001' }).RESERVATION_DEADLINE_MS).toBe(42_001);
  });

  it('checks the deadline against the inventory timeout the orders service is given', () => {
    // Fine with the default 5 s timeout, not with a 20 s one (3 × 20 s + 2 s + 25 s = 87 s).
    expect(loadConfig({ RESERVATION_DEADLINE_MS: '60000' }).RESERVATION_DEADLINE_MS).toBe(60_000);
    expect(() => loadConfig({ RESERVATION_DEADLINE_MS: '60000', INVENTORY_TIMEOUT_MS: '20000' })).toThrow(
      /RESERVATION_DEADLINE_MS: must be greater than 87000 \(got 60000\)/,
    );
    expect(
      loadConfig({ RESERVATION_DEADLINE_MS: '90000', INVENTORY_TIMEOUT_MS: '20000' }).RESERVATION_DEADLINE_MS,
    ).toBe(90_000);
  });
});
