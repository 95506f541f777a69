import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('orders configuration: the reservation call against the products deadline', () => {
  it('refuses an inventory timeout whose retries could outlast the reservation deadline', () => {
    expect(loadConfig({}).INVENTORY_TIMEOUT_MS).toBe(5_000);
    // 3 × 12 s + 2 × 1 s + 25 s = 63 s > the default 60 s deadline.
    expect(() => loadConfig({ INVENTORY_TIMEOUT_MS: '12000' })).toThrow(
      /RESERVATION_DEADLINE_MS: must be greater than 63000 \(got 60000\)/,
    );
    expect(loadConfig({ INVENTORY_TIMEOUT_MS: '12000', RESERVATION_DEADLINE_MS: '70000' }).INVENTORY_TIMEOUT_MS).toBe(
      12_000,
    );
    expect(() => loadConfig({ RESERVATION_DEADLINE_MS: '1000' })).toThrow(
      /RESERVATION_DEADLINE_MS: must be greater than 42000/,
    );
  });
});
