/**
 * Linux /proc readers for the benchmarks: CPU seconds and memory of a
 * process (or of a process and its descendants, e.g. PostgreSQL's backends),
 * the machine's CPU use and load average. Everything returns null where
 * /proc is not there (not Linux) or the process is gone.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';

let ticksPerSecond: number | null = null;
function clockTicks(): number {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

const read = (path: string): string | null => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
};

interface StatLine {
  ppid: number;
  /** utime + stime of the process itself, in ticks */
  own: number;
  /** cutime + cstime: reaped children, in ticks */
  reaped: number;
}

function statOf(pid: number): StatLine | null {
  const raw = read(`/proc/${pid}/stat`);
  if (!raw) return null;
  // Fields after "(comm)": state(3) ppid(4) … utime(14) stime(15) cutime(16) cstime(17), numbered from 1.
  const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(f[1]), own: Number(f[11]) + Number(f[12]), reaped: Number(f[13]) + Number(f[14]) };
}

/** Every live process id (a snapshot). */
function allPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .map(Number);
  } catch {
    return [];
  }
}

/** The process and its live descendants. */
export function processTree(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const pid of allPids()) {
    const s = statOf(pid);
    if (s) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  }
  const out: number[] = [];
  const todo = [rootPid];
  while (todo.length) {
    const pid = todo.pop()!;
    out.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return out;
}

/**
 * CPU seconds (user + system) used so far by a process; with `tree`, also by
 * its descendants, live or reaped (PostgreSQL's backends are children of the
 * postmaster, so this covers them).
 */
export function cpuSeconds(pid: number | null | undefined, { tree = false } = {}): number | null {
  if (pid == null || process.platform !== 'linux') return null;
  const root = statOf(pid);
  if (!root) return null;
  if (!tree) return root.own / clockTicks();
  let ticks = 0;
  for (const p of processTree(pid)) {
    const s = statOf(p);
    if (s) ticks += s.own + s.reaped;
  }
  return ticks / clockTicks();
}

/** A field of /proc/<pid>/status in kB (VmRSS, VmHWM = peak RSS, RssAnon…). */
export function statusKb(pid: number | null | undefined, field: string): number | null {
  if (pid == null) return null;
  const raw = read(`/proc/${pid}/status`);
  const m = raw?.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  return m ? Number(m[1]) : null;
}

/**
 * Memory of a process tree in kB as its proportional set size (shared pages
 * divided among the processes sharing them), so PostgreSQL's shared buffers
 * are counted once, not once per backend.
 */
export function treePssKb(rootPid: number | null | undefined): number | null {
  if (rootPid == null || process.platform !== 'linux') return null;
  let total = 0;
  let any = false;
  for (const pid of processTree(rootPid)) {
    const raw = read(`/proc/${pid}/smaps_rollup`);
    const m = raw?.match(/^Pss:\s+(\d+) kB/m);
    if (m) {
      total += Number(m[1]);
      any = true;
    }
  }
  return any ? total : null;
}

/** Jiffies of the whole machine from /proc/stat: busy and total, all cores. */
export function machineJiffies(): { busy: number; total: number } | null {
  const raw = read('/proc/stat');
  const line = raw?.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) {
    const cpus = os.cpus();
    let busy = 0;
    let total = 0;
    for (const c of cpus) {
      const b = c.times.user + c.times.nice + c.times.sys + c.times.irq;
      busy += b;
      total += b + c.times.idle;
    }
    return { busy, total };
  }
  // user nice system idle iowait irq softirq steal guest guest_nice
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = v[3] + (v[4] ?? 0);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** /proc/loadavg: 1, 5 and 15-minute load averages and runnable/total tasks. */
export function loadAverage(): { one: number; five: number; fifteen: number; running: string; raw: string } {
  const raw = read('/proc/loadavg')?.trim() ?? os.loadavg().join(' ');
  const f = raw.split(/\s+/);
  return { one: Number(f[0]), five: Number(f[1]), fifteen: Number(f[2]), running: f[3] ?? '', raw };
}

export function machineInfo() {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    freeMemoryGiBAtStart: Math.round((os.freemem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

export interface Tracked {
  name: string;
  pid: number | null;
  /** Count descendants too (PostgreSQL). */
  tree?: boolean;
}

export interface ResourceSample {
  /** ms, performance.now() of the bench process */
  at: number;
  machineBusy: number;
  machineTotal: number;
  /** CPU seconds so far, per tracked name */
  cpu: Record<string, number | null>;
  /** Resident memory in MB per tracked name (RSS; PSS of the tree for tree entries) */
  memMb: Record<string, number | null>;
}

/**
 * Samples CPU seconds and memory of the tracked processes, and the machine's
 * CPU, every `intervalMs`. `window(from, to)` gives CPU cores used per
 * process between two sample times, the machine's busy cores, and what is
 * left for processes that are not ours (other engineers' test runs).
 */
export class ResourceSampler {
  readonly samples: ResourceSample[] = [];
  private timer: NodeJS.Timeout | null = null;
  constructor(
    private tracked: Tracked[],
    private intervalMs = 1_000,
  ) {}

  track(t: Tracked) {
    this.tracked = [...this.tracked.filter((x) => x.name !== t.name), t];
  }

  sample(): ResourceSample {
    const m = machineJiffies() ?? { busy: 0, total: 0 };
    const cpu: Record<string, number | null> = {};
    const memMb: Record<string, number | null> = {};
    for (const t of this.tracked) {
      cpu[t.name] = cpuSeconds(t.pid, { tree: t.tree });
      const kb = t.tree ? treePssKb(t.pid) : statusKb(t.pid, 'VmRSS');
      memMb[t.name] = kb === null ? null : Math.round(kb / 102.4) / 10;
    }
    const s = { at: performance.now(), machineBusy: m.busy, machineTotal: m.total, cpu, memMb };
    this.samples.push(s);
    return s;
  }

  start() {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
  }

  /** Peak memory (MB) per tracked name over samples in [from, to]. */
  peakMemMb(from = -Infinity, to = Infinity): Record<string, number | null> {
    const out: Record<string, number | null> = {};
    for (const t of this.tracked) {
      let peak: number | null = null;
      for (const s of this.samples)
        if (s.at >= from && s.at <= to && s.memMb[t.name] != null) peak = Math.max(peak ?? 0, s.memMb[t.name]!);
      out[t.name] = peak;
    }
    return out;
  }

  /** CPU use between the samples nearest to `from` and `to` (ms, performance.now()). */
  window(from: number, to: number) {
    const near = (t: number) =>
      this.samples.reduce((best, s) => (Math.abs(s.at - t) < Math.abs(best.at - t) ? s : best), this.samples[0]);
    const a = near(from);
    const b = near(to);
    const seconds = (b.at - a.at) / 1000;
    const cores = os.cpus().length;
    const perProcess: Record<string, { cpuSeconds: number | null; cores: number | null }> = {};
    let ours = 0;
    for (const t of this.tracked) {
      const x = a.cpu[t.name];
      const y = b.cpu[t.name];
      const d = x != null && y != null ? Math.max(0, y - x) : null;
      perProcess[t.name] = {
        cpuSeconds: d === null ? null : round(d, 2),
        cores: d === null || !(seconds > 0) ? null : round(d / seconds, 2),
      };
      ours += d ?? 0;
    }
    const machineBusyCores =
      b.machineTotal > a.machineTotal
        ? ((b.machineBusy - a.machineBusy) / (b.machineTotal - a.machineTotal)) * cores
        : null;
    return {
      seconds: round(seconds, 1),
      perProcess,
      oursCores: seconds > 0 ? round(ours / seconds, 2) : null,
      machineBusyCores: machineBusyCores === null ? null : round(machineBusyCores, 2),
      /** Busy cores not explained by our processes: the other tenants of the machine. */
      otherProcessesCores:
        machineBusyCores === null || !(seconds > 0) ? null : round(Math.max(0, machineBusyCores - ours / seconds), 2),
    };
  }
}

export const round = (x: number, digits = 1) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/**
 * A fixed piece of CPU work (hashing, arithmetic, JSON), timed: how fast
 * this machine is right now for a single thread. On a shared machine the
 * wall time grows with the other processes' load (waiting for a core), and
 * the CPU time with what they do to caches and shared cores; compare runs
 * with it.
 */
export function cpuReference(): { cpuMs: number; wallMs: number } {
  const wall = performance.now();
  const c0 = process.cpuUsage();
  const h = createHash('sha256');
  const buf = Buffer.alloc(1 << 20, 7);
  for (let i = 0; i < 20; i++) h.update(buf);
  h.digest();
  let x = 0;
  for (let i = 0; i < 2_000_000; i++) x += Math.sqrt(i) * (i & 7);
  const doc = {
    items: Array.from({ length: 2000 }, (_, i) => ({
      id: `p-${i}`,
      q: i % 5,
      price: { amount: (i * 1.37).toFixed(2) },
    })),
  };
  for (let i = 0; i < 20; i++) x += (JSON.parse(JSON.stringify(doc)) as typeof doc).items.length;
  const c = process.cpuUsage(c0);
  if (x < 0) throw new Error('unreachable');
  return { cpuMs: round((c.user + c.system) / 1000, 1), wallMs: round(performance.now() - wall, 1) };
}
