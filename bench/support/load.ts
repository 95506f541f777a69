/**
 * Open-model load: every request is launched at its scheduled time whether
 * or not earlier ones have finished, and its latency is measured from that
 * scheduled time, so queueing anywhere (including in this process) shows in
 * the numbers instead of being hidden (no coordinated omission).
 */

export interface Arrival {
  /** ms after the start of the run */
  at: number;
  kind: string;
  /** false during warm-up */
  measured: boolean;
  /** `scheduledAt`: performance.now() of the scheduled start. */
  run(t: {
    scheduledAt: number;
    measured: boolean;
  }): Promise<{ outcome: string; status: number | null; info?: Record<string, unknown> }>;
}

export interface Completion {
  kind: string;
  measured: boolean;
  /** ms after the start of the run: scheduled, launched, done */
  scheduled: number;
  launched: number;
  done: number;
  /** done − scheduled */
  latency: number;
  /** launched − scheduled: the load generator's own lag */
  launchLag: number;
  outcome: string;
  status: number | null;
  info?: Record<string, unknown>;
}

/**
 * Evenly spaced arrivals of one kind at `rate` per second over
 * [fromS, toS) seconds, phase-shifted so that kinds do not all fire on the
 * same millisecond.
 */
export function schedule(
  kind: string,
  rate: number,
  fromS: number,
  toS: number,
  measuredFromS: number,
  phase: number,
  run: (i: number) => Arrival['run'],
): Arrival[] {
  if (!(rate > 0)) return [];
  const out: Arrival[] = [];
  const step = 1000 / rate;
  for (let i = 0, at = fromS * 1000 + phase * step; at < toS * 1000; i++, at += step)
    out.push({ at, kind, measured: at >= measuredFromS * 1000, run: run(i) });
  return out;
}

/** Launches every arrival at its time; resolves when all have finished. `start` is performance.now() at t = 0. */
export function runOpenModel(
  arrivals: Arrival[],
  {
    onTick,
    tickMs = 5_000,
  }: { onTick?: (elapsedMs: number, launched: number, finished: number) => void; tickMs?: number } = {},
) {
  const plan = [...arrivals].sort((a, b) => a.at - b.at);
  return new Promise<{ start: number; results: Completion[] }>((resolve) => {
    const results: Completion[] = new Array(plan.length);
    let next = 0;
    let finished = 0;
    const start = performance.now();
    let lastTick = 0;
    if (plan.length === 0) return resolve({ start, results });
    const launch = (i: number) => {
      const a = plan[i];
      const launched = performance.now() - start;
      const done = (r: { outcome: string; status: number | null; info?: Record<string, unknown> }) => {
        const end = performance.now() - start;
        results[i] = {
          kind: a.kind,
          measured: a.measured,
          scheduled: a.at,
          launched,
          done: end,
          latency: end - a.at,
          launchLag: launched - a.at,
          outcome: r.outcome,
          status: r.status,
          info: r.info,
        };
        if (++finished === plan.length) resolve({ start, results });
      };
      a.run({ scheduledAt: start + a.at, measured: a.measured }).then(done, (err: Error) =>
        done({ outcome: `bench-error:${err.message}`, status: null }),
      );
    };
    const tick = () => {
      const now = performance.now() - start;
      while (next < plan.length && plan[next].at <= now) launch(next++);
      if (onTick && now - lastTick >= tickMs) {
        lastTick = now;
        onTick(now, next, finished);
      }
      if (next < plan.length) setTimeout(tick, Math.max(0, plan[next].at - (performance.now() - start)));
    };
    tick();
  });
}
