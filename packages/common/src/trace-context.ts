import { AsyncLocalStorage } from 'node:async_hooks';
import { randomFillSync } from 'node:crypto';

/**
 * The W3C trace context (https://www.w3.org/TR/trace-context/) of the work
 * in progress: an HTTP request, a subgraph call, an event being handled.
 * The gateway starts it (or adopts the caller's `traceparent`), every
 * subgraph call and every event carries it on, and every log line written
 * inside it has its `traceId`; so one order's saga is one trace id.
 */
export interface TraceContext {
  /** `00-<trace id>-<span id>-<flags>`: this process's span in the trace. */
  traceparent: string;
  /** 32 lower-case hex digits; what the logs carry. */
  traceId: string;
}

export const TRACEPARENT_HEADER = 'traceparent';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const store = new AsyncLocalStorage<TraceContext>();

/**
 * When OpenTelemetry runs (tracing.ts), it owns spans and their propagation:
 * its HTTP instrumentation injects `traceparent` into outgoing requests, and
 * the ids we log are its spans' ids.
 */
export interface TraceBridge {
  /** The active span as a traceparent, if a span is active. */
  active(): string | undefined;
  /** Runs `fn` inside a new span whose remote parent is `parent` (a new trace when null). */
  inSpan<T>(name: string, parent: string | null, fn: () => Promise<T>): Promise<T>;
}
let bridge: TraceBridge | null = null;

/** Installs (or with null removes) the OpenTelemetry bridge. */
export function setTraceBridge(b: TraceBridge | null): void {
  bridge = b;
}

/** The parts of a valid traceparent; null for anything else (version ff, all-zero ids, bad shape). */
export function parseTraceparent(value: unknown): { traceId: string; parentId: string; flags: string } | null {
  if (typeof value !== 'string' || value.length > 512) return null;
  const m = TRACEPARENT.exec(value.trim().toLowerCase());
  if (!m) return null;
  const [, version, traceId, parentId, flags, rest] = m;
  if (version === 'ff' || (version === '00' && rest)) return null;
  if (/^0+$/.test(traceId) || /^0+$/.test(parentId)) return null;
  return { traceId, parentId, flags };
}

/**
 * A traceparent for new work: a child of `parent` (same trace id and flags,
 * a new span id) when `parent` is valid, else the root of a new trace
 * (sampled: without OpenTelemetry nothing samples, and logs want every id).
 */
export function createTraceparent(parent?: string | null): string {
  const p = parseTraceparent(parent);
  const spanId = randomHex(8);
  return p ? `00-${p.traceId}-${spanId}-${p.flags}` : `00-${randomHex(16)}-${spanId}-01`;
}

// Ids are cut from a pool of random bytes filled 4 KiB at a time: one randomBytes call per id (several per
// request and per event) was about 2% of a service's CPU samples.
const randomPool = Buffer.alloc(4096);
let randomUsed = randomPool.length;

function randomHex(bytes: number): string {
  if (randomUsed + bytes > randomPool.length) {
    randomFillSync(randomPool);
    randomUsed = 0;
  }
  randomUsed += bytes;
  return randomPool.toString('hex', randomUsed - bytes, randomUsed);
}

const contextOf = (traceparent: string): TraceContext => ({ traceparent, traceId: traceparent.slice(3, 35) });

/** The trace context of the work in progress, if any. */
export function currentTrace(): TraceContext | undefined {
  return store.getStore();
}

/** The current traceparent (what an event created now carries), or null outside any trace. */
export function currentTraceparent(): string | null {
  return store.getStore()?.traceparent ?? null;
}

/** Runs `fn` with `traceparent` as the current trace context. */
export function withTraceparent<T>(traceparent: string, fn: () => T): T {
  return store.run(contextOf(traceparent), fn);
}

/**
 * The trace context for an incoming request: OpenTelemetry's server span
 * when it runs (it already adopted the caller's header), else a child of the
 * caller's `traceparent`, else a new trace.
 */
export function traceparentForRequest(incoming: string | string[] | undefined): string {
  return bridge?.active() ?? createTraceparent(Array.isArray(incoming) ? incoming[0] : incoming);
}

/**
 * Runs the handling of a message (an event) as a child of the traceparent it
 * carries: its logs carry the sender's trace id, and the events it writes
 * continue the same trace.
 */
export function runInTrace<T>(name: string, parent: string | null, fn: () => Promise<T>): Promise<T> {
  if (bridge) {
    const b = bridge;
    return b.inSpan(name, parent, () => withTraceparent(b.active() ?? createTraceparent(parent), fn));
  }
  return withTraceparent(createTraceparent(parent), fn);
}

/**
 * Headers that carry the current trace to a call this process makes (a
 * subgraph fetch, an internal route). Empty outside a trace, and when
 * OpenTelemetry runs: its instrumentation injects the header itself, and a
 * second value would make the receiver's header invalid.
 */
export function traceHeaders(): Record<string, string> {
  const current = store.getStore();
  if (!current || bridge) return {};
  return { [TRACEPARENT_HEADER]: createTraceparent(current.traceparent) };
}
