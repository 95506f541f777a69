import { describe, expect, it } from 'vitest';
import { histogramQuantile, summarize, type MinuteRollup } from './business-metrics.ts';

const bounds = [100, 200, 500, 1000];

describe('histogramQuantile', () => {
  it('is null for an empty histogram', () => {
    expect(histogramQuantile(0.95, [0, 0, 0, 0, 0], bounds)).toBeNull();
  });
  it('interpolates inside the bucket that holds the rank', () => {
    // 100 observations: 90 under 100 ms, 10 between 200 and 500 ms → p95 halfway through that bucket.
    expect(histogramQuantile(0.95, [90, 0, 10, 0, 0], bounds)).toBe(350);
    expect(histogramQuantile(0.5, [90, 0, 10, 0, 0], bounds)).toBeCloseTo(55.6, 1);
  });
  it('answers the last bound for the open last bucket', () => {
    expect(histogramQuantile(0.95, [1, 0, 0, 0, 99], bounds)).toBe(1000);
  });
});

describe('summarize', () => {
  const now = new Date('2026-12-05T10:04:30Z');
  const row = (minute: string, o: Partial<MinuteRollup>): MinuteRollup => ({
    minute: new Date(minute),
    placed: 0,
    placedTotalCents: 0,
    paid: 0,
    paymentFailed: 0,
    toShipmentMs: [0, 0, 0, 0, 0],
    ...o,
  });

  it('adds the shards of each minute, gives every minute a point and leaves out rows outside the window', () => {
    const f = summarize(
      [
        row('2026-12-05T10:04:00Z', { placed: 2, placedTotalCents: 1000, paid: 1, toShipmentMs: [0, 1, 0, 0, 0] }),
        row('2026-12-05T10:04:00Z', { placed: 1, placedTotalCents: 2000, paymentFailed: 1 }),
        row('2026-12-05T10:02:00Z', { placed: 1, placedTotalCents: 1000, paid: 2, toShipmentMs: [2, 0, 0, 0, 0] }),
        row('2026-12-05T09:59:00Z', { placed: 50, placedTotalCents: 50, paymentFailed: 50 }),
      ],
      bounds,
      5,
      now,
    );
    expect(f.ordersPerMinute).toEqual([
      { at: '2026-12-05T10:00:00.000Z', value: 0 },
      { at: '2026-12-05T10:01:00.000Z', value: 0 },
      { at: '2026-12-05T10:02:00.000Z', value: 1 },
      { at: '2026-12-05T10:03:00.000Z', value: 0 },
      { at: '2026-12-05T10:04:00.000Z', value: 3 },
    ]);
    expect(f.successRate).toBe(0.75);
    expect(f.averageOrderCents).toBe(1000);
    expect(f.p95ToPendingShipmentMs).toBeCloseTo(185, 0);
  });

  it('has no rate, average or p95 without orders', () => {
    const f = summarize([], bounds, 2, now);
    expect(f).toMatchObject({ successRate: null, averageOrderCents: null, p95ToPendingShipmentMs: null });
    expect(f.ordersPerMinute.map((p) => p.value)).toEqual([0, 0]);
  });
});
