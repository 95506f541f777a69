/**
 * Preloaded into each service process the benchmarks start
 * (`node --expose-gc --import tsx --import ./bench/support/probe.ts …`).
 * It answers the bench process over the IPC channel, and does nothing
 * otherwise: no timers, no listeners on the service's side.
 *
 *   { probe: 1, id, cmd: 'memory', gc?: true }  → process.memoryUsage() (after a full GC when asked)
 *   { probe: 1, id, cmd: 'elu' }                → event-loop utilization since the previous 'elu'
 *   { probe: 1, id, cmd: 'profile-start', intervalUs? } / { cmd: 'profile-stop', path }
 *                                               → a V8 CPU profile of exactly that window, written to `path`
 *   { probe: 1, id, cmd: 'heap-snapshot', path } → a V8 heap snapshot (after a full GC) written to `path`
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import v8 from 'node:v8';

interface Request {
  probe: 1;
  id: number;
  cmd: 'memory' | 'elu' | 'profile-start' | 'profile-stop' | 'heap-snapshot';
  gc?: boolean;
  path?: string;
  intervalUs?: number;
}

if (process.send) {
  let session: Session | null = null;
  let lastElu: EventLoopUtilization = performance.eventLoopUtilization();
  const gc = (globalThis as { gc?: () => void }).gc;

  const handle = async (m: Request): Promise<unknown> => {
    switch (m.cmd) {
      case 'memory': {
        if (m.gc && gc) {
          gc();
          gc();
        }
        const mem = process.memoryUsage();
        const heap = v8.getHeapStatistics();
        return {
          ...mem,
          totalHeapSize: heap.total_heap_size,
          usedHeapSize: heap.used_heap_size,
          mallocedMemory: heap.malloced_memory,
          gcForced: !!(m.gc && gc),
        };
      }
      case 'elu': {
        const now = performance.eventLoopUtilization();
        const delta = performance.eventLoopUtilization(now, lastElu);
        lastElu = now;
        return { utilization: delta.utilization, activeMs: delta.active, idleMs: delta.idle };
      }
      case 'profile-start': {
        session ??= new Session();
        try {
          session.connect();
        } catch {
          /* connected already */
        }
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: m.intervalUs ?? 1000 });
        await session.post('Profiler.start');
        return true;
      }
      case 'profile-stop': {
        if (!session) throw new Error('no profile running');
        const { profile } = await session.post('Profiler.stop');
        if (m.path) writeFileSync(m.path, JSON.stringify(profile));
        return { path: m.path ?? null };
      }
      case 'heap-snapshot': {
        if (!m.path) throw new Error('heap-snapshot needs a path');
        gc?.();
        return { path: v8.writeHeapSnapshot(m.path) };
      }
      default:
        throw new Error(`unknown probe command ${(m as { cmd: string }).cmd}`);
    }
  };

  process.on('message', (m: Request) => {
    if (!m || m.probe !== 1) return;
    handle(m).then(
      (result) => process.send?.({ probe: 1, id: m.id, result }),
      (err: Error) => process.send?.({ probe: 1, id: m.id, error: err.message }),
    );
  });
  // The channel must not keep a stopping service alive.
  (process.channel as { unref?: () => void } | undefined)?.unref?.();
}
