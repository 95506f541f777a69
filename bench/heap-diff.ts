/**
 * What a heap grew by, by constructor: the difference between two V8 heap
 * snapshots (e.g. `npm run bench:subscriptions -- --heap-snapshots DIR`
 * writes the gateway's before any subscriber and with N idle), as self
 * size and count per unit (one subscriber), largest first. Objects are
 * named by their kind and constructor (`object:WebSocket`,
 * `closure:onMessage`, `hidden:system / PropertyArray`); with --retainers,
 * each row is split further by what holds the new objects (the first
 * retainer that is itself new, and the edge's name), which tells whose they
 * are (e.g. `array <- closure:.properties`: a closure's own properties).
 *
 *   npx tsx bench/heap-diff.ts DIR/gateway-baseline.heapsnapshot DIR/gateway-1000.heapsnapshot --per 1000
 *
 * Self sizes: an object's own bytes, not what it keeps alive. Native
 * entries (`synthetic:Node / TCPSocketWrap`, `native:system /
 * JSArrayBufferData`) are outside the JS heap that process.memoryUsage()
 * reports as heapUsed.
 */
import { readFileSync } from 'node:fs';
import { parseFlags } from './support/cli.ts';

// The two snapshots are the arguments that are neither a flag nor a flag's value.
const files: string[] = [];
const flagArgs: string[] = [];
for (let i = 2; i < process.argv.length; i++) {
  const arg = process.argv[i];
  if (!arg.startsWith('--')) files.push(arg);
  else if (arg.includes('=') || arg === '--retainers' || arg === '--help') flagArgs.push(arg);
  else flagArgs.push(arg, process.argv[++i]);
}
const flags = parseFlags(
  flagArgs,
  {
    per: { type: 'number', default: 1, min: 1, help: 'divide by this (the number of subscribers)' },
    top: { type: 'number', default: 40, min: 1, help: 'rows to print' },
    retainers: { type: 'boolean', default: false, help: 'split each row by what holds the new objects' },
  },
  'npx tsx bench/heap-diff.ts BEFORE.heapsnapshot AFTER.heapsnapshot [options]',
);
if (files.length !== 2) throw new Error('two heap snapshots: before and after');

interface Snapshot {
  snapshot: {
    meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

const NAMED = new Set(['object', 'closure', 'native', 'hidden', 'code', 'synthetic']);

function read(path: string) {
  const s = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const { node_fields: nf, node_types: nt, edge_fields: ef, edge_types: et } = s.snapshot.meta;
  const k = nf.length;
  const at = {
    type: nf.indexOf('type'),
    name: nf.indexOf('name'),
    size: nf.indexOf('self_size'),
    id: nf.indexOf('id'),
  };
  const edgeCount = nf.indexOf('edge_count');
  const count = s.nodes.length / k;
  const label = (i: number) => {
    const type = nt[0][s.nodes[i * k + at.type]];
    return NAMED.has(type) ? `${type}:${s.strings[s.nodes[i * k + at.name]].slice(0, 60)}` : type;
  };
  return { s, k, at, nt, ef, et, edgeCount, count, label };
}

const before = read(files[0]);
const oldIds = new Set<number>();
for (let i = 0; i < before.count; i++) oldIds.add(before.s.nodes[i * before.k + before.at.id]);
const before_ = new Map<string, { n: number; size: number }>();
for (let i = 0; i < before.count; i++) {
  const row = before_.get(before.label(i)) ?? { n: 0, size: 0 };
  row.n++;
  row.size += before.s.nodes[i * before.k + before.at.size];
  before_.set(before.label(i), row);
}

const after = read(files[1]);
const { s, k, at } = after;
const after_ = new Map<string, { n: number; size: number }>();
for (let i = 0; i < after.count; i++) {
  const row = after_.get(after.label(i)) ?? { n: 0, size: 0 };
  row.n++;
  row.size += s.nodes[i * k + at.size];
  after_.set(after.label(i), row);
}

const per = flags.per;
const fmt = (bytes: number, n: number, label: string) =>
  `${(bytes / per).toFixed(1).padStart(9)} B ${(n / per).toFixed(2).padStart(7)}×  ${label}`;
let total = 0;
const rows: [string, number, number][] = [];
for (const label of new Set([...before_.keys(), ...after_.keys()])) {
  const a = before_.get(label) ?? { n: 0, size: 0 };
  const b = after_.get(label) ?? { n: 0, size: 0 };
  total += b.size - a.size;
  rows.push([label, b.size - a.size, b.n - a.n]);
}
rows.sort((x, y) => y[1] - x[1]);
console.log(`self size grew by ${total} B: ${(total / per).toFixed(0)} B per unit (--per ${per})`);
for (const [label, size, n] of rows.slice(0, flags.top)) console.log(fmt(size, n, label));

if (flags.retainers) {
  // New nodes only, each under the first new node (else any node) that holds it by a strong edge.
  const isNew = (i: number) => !oldIds.has(s.nodes[i * k + at.id]);
  const holder = new Int32Array(after.count).fill(-1);
  const holderEdge: string[] = new Array(after.count);
  const edgeFields = after.ef.length;
  const eType = after.ef.indexOf('type');
  const eName = after.ef.indexOf('name_or_index');
  const eTo = after.ef.indexOf('to_node');
  let e = 0;
  for (let i = 0; i < after.count; i++) {
    const edges = s.nodes[i * k + after.edgeCount];
    for (let j = 0; j < edges; j++, e += edgeFields) {
      const type = after.et[0][s.edges[e + eType]];
      if (type === 'weak') continue;
      const to = s.edges[e + eTo] / k;
      if (holder[to] !== -1 && (isNew(holder[to]) || !isNew(i))) continue;
      holder[to] = i;
      const name = s.edges[e + eName];
      holderEdge[to] = type === 'element' || type === 'hidden' ? `[${name}]` : s.strings[name];
    }
  }
  const split = new Map<string, { n: number; size: number }>();
  for (let i = 0; i < after.count; i++) {
    if (!isNew(i)) continue;
    const by = holder[i] === -1 ? '(root)' : `${after.label(holder[i])}.${holderEdge[i]}`;
    const key = `${after.label(i)}  <-  ${by}`;
    const row = split.get(key) ?? { n: 0, size: 0 };
    row.n++;
    row.size += s.nodes[i * k + at.size];
    split.set(key, row);
  }
  console.log('\nnew objects by what holds them:');
  for (const [key, row] of [...split].sort((x, y) => y[1].size - x[1].size).slice(0, flags.top))
    console.log(fmt(row.size, row.n, key));
}
