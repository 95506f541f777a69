/**
 * The business figures of the operator console, computed from per-minute rollup rows (written by the
 * orders table's triggers, migration 20261205000000_operator_console). Pure.
 */

export interface MinuteRollup {
  minute: Date;
  placed: number;
  placedTotalCents: number;
  paid: number;
  paymentFailed: number;
  /** Counts per bucket of `bounds`: bucket i < bounds[i] ms (the last: everything above the last bound). */
  toShipmentMs: number[];
}

/**
 * The q-quantile of a histogram, interpolated linearly inside its bucket (as Prometheus'
 * histogram_quantile does); the open last bucket answers its lower bound. Null for an empty one.
 */
export function histogramQuantile(q: number, counts: number[], bounds: number[]): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] === 0 || seen + counts[i] < rank) {
      seen += counts[i];
      continue;
    }
    if (i >= bounds.length) return bounds[bounds.length - 1];
    const lower = i === 0 ? 0 : bounds[i - 1];
    return lower + ((bounds[i] - lower) * (rank - seen)) / counts[i];
  }
  return bounds[bounds.length - 1];
}

/** Adds histograms bucket by bucket. */
export function addHistograms(a: number[], b: number[]): number[] {
  return Array.from({ length: Math.max(a.length, b.length) }, (_, i) => (a[i] ?? 0) + (b[i] ?? 0));
}

export interface BusinessFigures {
  ordersPerMinute: { at: string; value: number }[];
  successRate: number | null;
  averageOrderCents: number | null;
  p95ToPendingShipmentMs: number | null;
}

/**
 * The figures of the `windowMinutes` minutes ending with the current one (`now`'s), from that window's
 * rollups (several rows per minute: shards). Every minute of the window has a point, zeros included.
 */
export function summarize(rows: MinuteRollup[], bounds: number[], windowMinutes: number, now: Date): BusinessFigures {
  const current = Math.floor(now.getTime() / 60_000) * 60_000;
  const start = current - (windowMinutes - 1) * 60_000;
  const perMinute = new Map<number, number>();
  let placed = 0;
  let cents = 0;
  let paid = 0;
  let failed = 0;
  let histogram: number[] = [];
  for (const r of rows) {
    const t = r.minute.getTime();
    if (t < start || t > current) continue;
    perMinute.set(t, (perMinute.get(t) ?? 0) + r.placed);
    placed += r.placed;
    cents += r.placedTotalCents;
    paid += r.paid;
    failed += r.paymentFailed;
    histogram = addHistograms(histogram, r.toShipmentMs);
  }
  return {
    ordersPerMinute: Array.from({ length: windowMinutes }, (_, i) => {
      const t = start + i * 60_000;
      return { at: new Date(t).toISOString(), value: perMinute.get(t) ?? 0 };
    }),
    successRate: paid + failed > 0 ? paid / (paid + failed) : null,
    averageOrderCents: placed > 0 ? Math.round(cents / placed) : null,
    p95ToPendingShipmentMs: histogramQuantile(0.95, histogram, bounds),
  };
}
