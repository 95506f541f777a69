/** Percentiles, summaries and time series for the benchmarks. */

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}

export interface Summary {
  count: number;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  p999: number | null;
  max: number | null;
  mean: number | null;
}

const r1 = (x: number) => (Number.isFinite(x) ? Math.round(x * 10) / 10 : null);

/** Count, p50/p90/p95/p99/p99.9, max and mean of a list of values (ms), one decimal. */
export function summarize(values: number[]): Summary {
  const s = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of s) sum += v;
  return {
    count: s.length,
    p50: r1(percentile(s, 50)),
    p90: r1(percentile(s, 90)),
    p95: r1(percentile(s, 95)),
    p99: r1(percentile(s, 99)),
    p999: r1(percentile(s, 99.9)),
    max: r1(s.length ? s[s.length - 1] : NaN),
    mean: r1(s.length ? sum / s.length : NaN),
  };
}

/** Counts of values by key. */
export function countBy<T>(xs: T[], key: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) {
    const k = key(x);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** Share of values at or below a threshold. */
export function shareAtMost(values: number[], threshold: number): number | null {
  if (values.length === 0) return null;
  return Math.round((values.filter((v) => v <= threshold).length / values.length) * 10_000) / 10_000;
}

/**
 * Latency percentiles per time bucket: points of (bucket start s, p50, p95,
 * p99, count), for the "latency over time" plots.
 */
export function percentilesOverTime(points: { t: number; v: number }[], bucketMs: number, originMs = 0) {
  const buckets = new Map<number, number[]>();
  for (const p of points) {
    const b = Math.floor((p.t - originMs) / bucketMs);
    if (!buckets.has(b)) buckets.set(b, []);
    buckets.get(b)!.push(p.v);
  }
  return [...buckets.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([b, vs]) => {
      const s = Float64Array.from(vs).sort();
      return {
        t: (b * bucketMs) / 1000,
        p50: r1(percentile(s, 50)),
        p95: r1(percentile(s, 95)),
        p99: r1(percentile(s, 99)),
        count: vs.length,
      };
    });
}

/** Events per second in buckets: (bucket start s, rate). */
export function rateOverTime(times: number[], bucketMs: number, originMs = 0, endMs?: number) {
  const counts = new Map<number, number>();
  let last = 0;
  for (const t of times) {
    const b = Math.floor((t - originMs) / bucketMs);
    counts.set(b, (counts.get(b) ?? 0) + 1);
    last = Math.max(last, b);
  }
  if (endMs !== undefined) last = Math.floor((endMs - originMs) / bucketMs);
  const out: { t: number; rate: number }[] = [];
  for (let b = 0; b <= last; b++)
    out.push({ t: (b * bucketMs) / 1000, rate: Math.round(((counts.get(b) ?? 0) * 1000 * 10) / bucketMs) / 10 });
  return out;
}

/** Least-squares slope of (x, y) points: units of y per unit of x. */
export function slope(points: { x: number; y: number }[]): number | null {
  const n = points.length;
  if (n < 2) return null;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sx += p.x;
    sy += p.y;
    sxx += p.x * p.x;
    sxy += p.x * p.y;
  }
  const d = n * sxx - sx * sx;
  return d === 0 ? null : (n * sxy - sx * sy) / d;
}

/** Small deterministic PRNG (mulberry32), so a seed gives the same load. */
export function prng(seed: number) {
  let a = seed >>> 0 || 0x9e3779b9;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Wall-clock time in ms with sub-millisecond resolution (comparable with PostgreSQL timestamps on this machine). */
export const wallNow = () => performance.timeOrigin + performance.now();

/** An event-loop delay histogram (perf_hooks, nanoseconds) as p50 / p99 / max in ms, two decimals. */
export function loopDelayMs(h: { percentile(p: number): number; max: number }) {
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) };
}
