/**
 * Where a process's CPU time goes, from a V8 CPU profile (.cpuprofile, as
 * the bench probe writes it): self time by package / area of the code, and
 * the hottest functions.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The area of the code a frame belongs to: a package, a folder of ours, Node's internals, or V8 states. */
export function categoryOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'V8/native (program)';
    // Builtins without a script: socket writes (writev, writeBuffer), microtask runs, timers…
    return 'native builtins (I/O writes, microtasks)';
  }
  if (url.startsWith('wasm://')) return 'wasm (Prisma query compiler)';
  if (url.startsWith('node:')) return 'node internals';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const m = url.match(/\/(packages\/[^/]+|subgraphs\/[^/]+|gateway)\/(src\/generated|src)?/);
  if (m) return m[2] === 'src/generated' ? `${m[1]} (generated Prisma client)` : m[1];
  return url.replace(/^file:\/\//, '');
}

export interface ProfileSummary {
  /** ms of samples in the profile (busy + idle) */
  totalMs: number;
  /** ms not idle */
  busyMs: number;
  byCategory: { category: string; ms: number; pct: number }[];
  topFunctions: { name: string; category: string; ms: number; pct: number }[];
  /** Inclusive time of our own source files (anywhere on the synchronous stack of a sample). */
  ourFilesInclusive: { file: string; ms: number; pct: number }[];
}

/** Self time by category and the top functions of a .cpuprofile file; percentages of busy time. */
export function summarizeProfile(path: string, top = 15): ProfileSummary {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  // timeDeltas[i] is the time before sample i; attribute it to sample i-1's node (what was running).
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;
    self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + dt);
  }
  const cats = new Map<string, number>();
  const funcs = new Map<string, { name: string; category: string; us: number }>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node) continue;
    total += us;
    const cat = categoryOf(node.callFrame);
    if (cat === 'idle') {
      idle += us;
      continue;
    }
    cats.set(cat, (cats.get(cat) ?? 0) + us);
    const f = node.callFrame;
    const key = `${f.functionName}|${f.url}|${f.lineNumber}`;
    const file = f.url ? f.url.replace(/^.*\/(node_modules\/)?/, '') : '';
    const entry = funcs.get(key) ?? {
      name: `${f.functionName || '(anonymous)'}${file ? ` ${file}:${f.lineNumber + 1}` : ''}`,
      category: cat,
      us: 0,
    };
    entry.us += us;
    funcs.set(key, entry);
  }
  const busy = total - idle;
  const pct = (us: number) => Math.round((us / Math.max(1, busy)) * 1000) / 10;

  // Inclusive time per file of ours: walk each sample's stack up to the root.
  const parent = new Map<number, number>();
  for (const node of p.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  const ourFile = (url: string) => {
    if (!url || url.includes('/node_modules/') || !url.includes('/work/')) return null;
    const m = url.match(/\/((?:packages|subgraphs)\/[^/]+\/src\/.*|gateway\/src\/.*)$/);
    return m && !m[1].includes('/generated/') ? m[1] : null;
  };
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    const files = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = ourFile(byId.get(cur)?.callFrame.url ?? '');
      if (f) files.add(f);
    }
    for (const f of files) inclusive.set(f, (inclusive.get(f) ?? 0) + us);
  }
  return {
    totalMs: Math.round(total / 1000),
    busyMs: Math.round(busy / 1000),
    byCategory: [...cats.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([category, us]) => ({ category, ms: Math.round(us / 1000), pct: pct(us) })),
    topFunctions: [...funcs.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, category: f.category, ms: Math.round(f.us / 1000), pct: pct(f.us) })),
    ourFilesInclusive: [...inclusive.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([file, us]) => ({ file, ms: Math.round(us / 1000), pct: pct(us) })),
  };
}
