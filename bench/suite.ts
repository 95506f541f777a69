/**
 * `npm run bench`: the benchmark suite, one run, one report.
 *
 *   docs/bench/report.json     every number of the run
 *   docs/bench/README.md       the report, with plots (docs/bench/*.svg)
 *
 * A short warm-up (JIT, connection pools) comes first. Phases, all against one system booted here (the four subgraphs and the
 * gateway as separate processes by default; --in-process puts them in this
 * process; PostgreSQL with pg_stat_statements and commit timestamps):
 *
 * 1. writes    placeOrder only (1–5 lines, tok_visa) at a low rate, every
 *              customer subscribed: CPU per order per process, SQL
 *              statements and transactions per order, saga latency by step.
 *              With --profile, then a CPU profile of each service over a
 *              phase of its own (same load; the profiler's own cost kept out
 *              of the writes phase's numbers).
 * 2. saturation the highest arrival rate (the shop's mix, below) whose saga
 *              backlog does not grow with placeOrder p95 < 100 ms (strict)
 *              and < 500 ms (the seed's target: sustainable), in a few
 *              short steps from an estimate made from phase 1.
 * 3. main      the open-model shop at that rate (or --rate): placeOrder,
 *              product pages, my orders, the federated order page, shipment
 *              updates (delivery partner), at fixed rates; latency over time,
 *              errors by code, saga completion and end-to-end latency as seen
 *              by a subscriber, backlog, CPU and memory per process.
 * 4. physical  the same writes as raw SQL on the same PostgreSQL (N
 *              clients): what the database alone does on this machine.
 * 5. gateway   the order page through the gateway vs the same plan sent
 *              straight to the subgraphs: the gateway's own cost. Then
 *              in-flight deduplication: 32 connections (--gateway-connections)
 *              of one order page, and of 48 customers' pages (--gateway-pages),
 *              through gateways with GATEWAY_DEDUP=on and off and direct:
 *              gateway and subgraph CPU per request, throughput.
 *
 * The machine is shared: every phase records /proc/loadavg and the CPU
 * used by processes that are not ours.
 *
 *   npm run bench                          # about 5 minutes
 *   npm run bench -- --quick               # about 3 minutes, shorter phases
 *   npm run bench -- --rate 8 --steps 0 --skip physical,gateway
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { boot, log } from './support/boot.ts';
import { SYSTEM_FLAGS, parseFlags } from './support/cli.ts';
import { measureDedup, measureGatewayCost, type ReadTarget } from './support/gateway-cost.ts';
import { PLACE_ORDER, call, orderInput } from './support/graphql.ts';
import { benchPort } from './support/stack.ts';
import { runOpenModel, type Completion } from './support/load.ts';
import { cpuReference, loadAverage, machineInfo, statusKb } from './support/proc.ts';
import { summarizeProfile } from './support/profile.ts';
import { physicalLimit } from './support/rawsql.ts';
import { writeReport } from './support/report.ts';
import {
  BacklogSampler,
  SagaTracker,
  commitCounts,
  ordersCreatedBetween,
  outboxBacklog,
  resetStatementStats,
  stageBreakdown,
  statementStats,
  type OrderTrace,
} from './support/saga.ts';
import { countBy, loopDelayMs, percentilesOverTime, prng, rateOverTime, summarize } from './support/stats.ts';
import { DEFAULT_MIX, NO_READS, phaseArrivals, prepareWorkload, type Mix, type Workload } from './support/workload.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TARGET_PER_MIN = 10_000;

const flags = parseFlags(
  process.argv.slice(2),
  {
    rate: {
      type: 'number',
      default: 0,
      min: 0,
      help: 'orders per second of the main phase (0: the highest rate that passed the saturation search)',
    },
    writesRate: {
      type: 'number',
      default: 3,
      min: 0.1,
      help: 'orders per second of the writes-only phase (low: CPU per order without overload)',
    },
    duration: { type: 'number', default: 45, min: 5, help: 'measured seconds of the main phase' },
    warmup: { type: 'number', default: 8, min: 0, help: 'warm-up seconds of the main phase' },
    writesDuration: { type: 'number', default: 15, min: 3, help: 'measured seconds of the writes-only phase' },
    drain: { type: 'number', default: 30, min: 0, help: 'seconds to let the sagas of a phase finish' },
    timeout: { type: 'number', default: 10, min: 0.1, help: 'per-request timeout, seconds' },
    products: { type: 'number', default: 200, min: 5, help: 'products to create' },
    customers: {
      type: 'number',
      default: 100,
      min: 1,
      help: 'customers to sign up (each follows its orders on a graphql-ws socket)',
    },
    productPage: { type: 'number', default: DEFAULT_MIX.productPage, min: 0, help: 'product page views per order' },
    myOrders: { type: 'number', default: DEFAULT_MIX.myOrders, min: 0, help: 'my-orders lists per order' },
    orderDetail: { type: 'number', default: DEFAULT_MIX.orderDetail, min: 0, help: 'federated order pages per order' },
    shipmentUpdate: {
      type: 'number',
      default: DEFAULT_MIX.shipmentUpdate,
      min: 0,
      help: 'updateShipmentStatus (SHIPPED) per order',
    },
    rawClients: { type: 'number', default: 16, min: 1, help: 'connections of the raw-SQL loop' },
    rawDuration: { type: 'number', default: 15, min: 1, help: 'seconds of the raw-SQL loop' },
    gatewaySeconds: {
      type: 'number',
      default: 8,
      min: 1,
      help: 'seconds per concurrency level and path of the gateway-cost phase',
    },
    gatewayConnections: {
      type: 'number',
      default: 32,
      min: 1,
      help: "closed-loop connections of the gateway phase's deduplication runs (same page, different pages)",
    },
    gatewayPages: {
      type: 'number',
      default: 48,
      min: 2,
      help: "different customers' order pages of the deduplication runs (orders are placed for customers without one)",
    },
    dedupSeconds: {
      type: 'number',
      default: 8,
      min: 0,
      help: 'seconds per scenario and path (dedup on, off, direct) of the deduplication runs; 0 skips them',
    },
    steps: { type: 'number', default: 4, min: 0, help: 'saturation steps at most' },
    stepDuration: { type: 'number', default: 15, min: 3, help: 'measured seconds per saturation step' },
    stepWarmup: { type: 'number', default: 4, min: 0, help: 'warm-up seconds per saturation step' },
    satStart: {
      type: 'number',
      default: 0,
      min: 0,
      help: 'first saturation rate (0: estimated from the CPU per order of the writes phase and the CPU left by other processes)',
    },
    budget: {
      type: 'number',
      default: 330,
      min: 30,
      help: 'seconds for the whole suite: the saturation search stops early to stay within it',
    },
    skip: { type: 'string', default: '', help: 'phases to skip: writes,main,physical,gateway,saturation' },
    quick: {
      type: 'boolean',
      default: false,
      help: 'shorter phases (main 25 s, 3 saturation steps of 10 s, 60 customers)',
    },
    profile: {
      type: 'boolean',
      default: false,
      help: 'CPU-profile every service in an extra phase like the writes phase (docs/bench/profiles/)',
    },
    outDir: {
      type: 'string',
      default: resolve(ROOT, 'docs/bench'),
      help: 'where report.json, README.md and the plots go',
    },
    ...SYSTEM_FLAGS,
  },
  'npm run bench -- [options]',
);
if (flags.quick) {
  flags.customers = Math.min(flags.customers, 60);
  flags.duration = Math.min(flags.duration, 25);
  flags.warmup = Math.min(flags.warmup, 5);
  flags.writesDuration = Math.min(flags.writesDuration, 10);
  flags.rawDuration = Math.min(flags.rawDuration, 8);
  flags.gatewaySeconds = Math.min(flags.gatewaySeconds, 4);
  flags.steps = Math.min(flags.steps, 3);
  flags.stepDuration = Math.min(flags.stepDuration, 10);
  flags.drain = Math.min(flags.drain, 20);
}
const skip = new Set(
  flags.skip
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const r1 = (x: number) => Math.round(x * 10) / 10;

/**
 * A first guess of the sustainable rate from the writes phase: 70 % of the
 * cores other processes left free, divided by the CPU one order costs over
 * our processes (the bench excluded), and no more than 70 % of what the
 * busiest single service process (one core) allows.
 */
function estimateRate(writes: Record<string, any> | undefined, cores: number): number {
  const perOrder = (writes?.cpuMsPerPlacedOrder ?? {}) as Record<string, number | null>;
  const total = Object.entries(perOrder)
    .filter(([k]) => k !== 'bench')
    .reduce((a, [, v]) => a + (v ?? 0), 0);
  const free = Math.max(0.3, cores - ((writes?.cpu?.otherProcessesCores as number | undefined) ?? 0));
  const busiest = Math.max(
    0,
    ...Object.entries(perOrder)
      .filter(([k]) => !['bench', 'postgres', 'nats'].includes(k))
      .map(([, v]) => v ?? 0),
  );
  if (!(total > 0)) return 5;
  return Math.max(
    1,
    Math.min(200, r1(Math.min((0.7 * free * 1000) / total, busiest > 0 ? (0.7 * 1000) / busiest : Infinity))),
  );
}

function gitState() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: ROOT,
      encoding: 'utf8',
    })
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3));
    return { head, modifiedFiles: dirty };
  } catch {
    return null;
  }
}

async function main() {
  const suiteStart = performance.now();
  const runId = randomBytes(3).toString('hex');
  const random = prng(flags.seed);
  const machine = { ...machineInfo(), loadAtStart: loadAverage(), cpuReferenceAtStart: cpuReference() };
  const git = gitState();
  const booted = await boot(flags);
  const { stack, infra, sampler } = booted;
  const mix: Mix = {
    productPage: flags.productPage,
    myOrders: flags.myOrders,
    orderDetail: flags.orderDetail,
    shipmentUpdate: flags.shipmentUpdate,
  };
  const report: Record<string, unknown> = {
    benchmark: 'suite',
    timestamp: new Date().toISOString(),
    git,
    machine,
    target: {
      ordersPerMinute: TARGET_PER_MIN,
      ordersPerSecond: r1(TARGET_PER_MIN / 60),
      consistentWithinMs: 5_000,
      placeOrderP95Ms: 500,
      statusUpdateP95Ms: 100,
      successRate: 0.999,
    },
    config: {
      ...flags,
      mix,
      mode: stack.mode,
      postgres: booted.postgres,
      services: 'gateway, auth, products, orders, shipments',
    },
    phases: {} as Record<string, unknown>,
  };
  const phases = report.phases as Record<string, unknown>;
  let w: Workload | null = null;
  try {
    const setupStart = performance.now();
    w = await prepareWorkload(booted, {
      products: flags.products,
      customers: flags.customers,
      runId,
      random,
      opsSecret: flags.opsSecret,
      subscribe: true,
    });
    const workload = w;
    report.setup = {
      seconds: r1((performance.now() - setupStart) / 1000),
      customers: w.customers.length,
      products: w.productIds.length,
      subscribers: w.subscribers?.open ?? 0,
    };
    const backlog = w.nats ? new BacklogSampler(w.nats, stack.databases, 1_000).start() : null;
    sampler.start();

    let idle: {
      seconds: number;
      cores: Record<string, number | null>;
      statementsPerSec: Record<string, number> | null;
      commitsPerSec: Record<string, number> | null;
    } | null = null;
    /** One open-model phase: arrivals, then its sagas drained; everything about its measured window. */
    async function runPhase(
      name: string,
      o: {
        rate: number;
        warmupS: number;
        durationS: number;
        mix: Mix;
        detailed: boolean;
        profile?: boolean;
        drainS: number;
      },
    ) {
      log(
        `phase ${name}: ${o.rate} orders/s${o.mix === NO_READS ? ' (writes only)' : ' + reads and shipment updates'}, ${o.warmupS} s warm-up + ${o.durationS} s measured`,
      );
      const reference = cpuReference();
      const arrivals = phaseArrivals(workload, {
        rate: o.rate,
        warmupS: o.warmupS,
        durationS: o.durationS,
        timeoutMs: flags.timeout * 1000,
        mix: o.mix,
        random,
        keyPrefix: `${name}-${runId}`,
      });
      const services = stack.processes.map((p) => p.name);
      const loop = monitorEventLoopDelay({ resolution: 10 });
      const windowStart = {} as { commits?: Record<string, number> | null; load?: ReturnType<typeof loadAverage> };
      const windowEnd = {} as {
        commits?: Record<string, number> | null;
        statements?: Awaited<ReturnType<typeof statementStats>>;
        elu?: Record<string, number | null>;
        load?: ReturnType<typeof loadAverage>;
        backlog?: unknown;
        profiles?: Record<string, string>;
      };
      const startTimer = new Promise<void>((res) =>
        setTimeout(async () => {
          sampler.sample();
          loop.enable();
          windowStart.load = loadAverage();
          if (o.detailed && infra?.instrumented) {
            windowStart.commits = await commitCounts(infra.pgUrl, stack.databases).catch(() => null);
            await resetStatementStats(infra.pgUrl).catch((err: Error) =>
              log(`pg_stat_statements reset failed: ${err.message}`),
            );
          }
          await Promise.all(services.map((s) => stack.probe(s, 'elu').catch(() => null)));
          if (o.profile)
            await Promise.all(
              services.map((s) =>
                stack
                  .probe(s, 'profile-start', { intervalUs: 1000 })
                  .catch((err: Error) => log(`profile ${s}: ${err.message}`)),
              ),
            );
          res();
        }, o.warmupS * 1000),
      );
      const endTimer = new Promise<void>((res) =>
        setTimeout(
          async () => {
            sampler.sample();
            loop.disable();
            windowEnd.load = loadAverage();
            const elus = await Promise.all(services.map((s) => stack.probe(s, 'elu').catch(() => null)));
            windowEnd.elu = Object.fromEntries(
              services.map((s, i) => [s, elus[i] ? Math.round(elus[i].utilization * 1000) / 1000 : null]),
            );
            windowEnd.backlog = w!.nats
              ? {
                  ...(await w!.nats.backlog().catch(() => null)),
                  outbox: await outboxBacklog(stack.databases).catch(() => null),
                }
              : null;
            if (o.detailed && infra?.instrumented) {
              windowEnd.statements = await statementStats(infra.pgUrl, stack.databases).catch(() => null);
              windowEnd.commits = await commitCounts(infra.pgUrl, stack.databases).catch(() => null);
            }
            if (o.profile) {
              const dir = join(flags.outDir, 'profiles');
              mkdirSync(dir, { recursive: true });
              windowEnd.profiles = {};
              for (const s of services) {
                const path = join(dir, `${name}-${s}.cpuprofile`);
                const ok = await stack
                  .probe(s, 'profile-stop', { path })
                  .catch((err: Error) => (log(`profile ${s}: ${err.message}`), null));
                if (ok) windowEnd.profiles[s] = path;
              }
            }
            res();
          },
          (o.warmupS + o.durationS) * 1000,
        ),
      );
      const { start, results } = await runOpenModel(arrivals, {
        onTick: (ms, launched, finished) =>
          log(
            `  t=${(ms / 1000).toFixed(0)}s launched=${launched} answered=${finished} sagas incomplete=${workload.tracker.incomplete()} backlog=${backlog?.totalNear(performance.now()) ?? '?'} load ${loadAverage().one}`,
          ),
      });
      await Promise.all([startTimer, endTimer]);
      const answeredAt = performance.now();
      const wFrom = start + o.warmupS * 1000;
      const wTo = wFrom + o.durationS * 1000;
      const inPhase = (t: OrderTrace) => t.scheduled >= start && t.scheduled < wTo && t.measured;
      const incomplete = () =>
        [...workload.tracker.orders.values()].filter(
          (t) => t.scheduled >= start && t.scheduled < wTo && SagaTracker.completedAt(t) === undefined,
        ).length;
      const drainUntil = performance.now() + o.drainS * 1000;
      while (incomplete() > 0 && performance.now() < drainUntil) await sleep(250);
      const drainMs = Math.round(performance.now() - answeredAt);
      const backlogAfterDrain = w!.nats
        ? { ...(await w!.nats.backlog()), outbox: await outboxBacklog(stack.databases) }
        : null;

      // ---- the measured window
      const measured = results.filter((r) => r.measured && r.outcome !== 'skipped');
      const byKind = (k: string) => measured.filter((r) => r.kind === k);
      const kinds = [...new Set(measured.map((r) => r.kind))];
      const ok = (r: Completion) =>
        r.outcome === 'ok' ||
        r.outcome === 'OrderPlaced' ||
        r.outcome === 'ProductsUnavailable' ||
        r.outcome === 'InvalidOrder';
      const requests = Object.fromEntries(
        kinds.map((k) => {
          const rs = byKind(k);
          return [
            k,
            {
              count: rs.length,
              perSec: r1(rs.length / o.durationS),
              outcomes: countBy(rs, (r) => r.outcome),
              latencyMs: summarize(rs.map((r) => r.latency)),
              errors: rs.filter((r) => !ok(r)).length,
            },
          ];
        }),
      );
      const errorsByCode = countBy(
        measured.filter((r) => !ok(r)),
        (r) => `${r.kind} ${r.outcome}`,
      );
      const placed = byKind('placeOrder').filter((r) => r.outcome === 'OrderPlaced').length;
      // Per-order figures divide by the orders committed in the window (timed-out answers included).
      const committed =
        (await ordersCreatedBetween(
          stack.databases,
          performance.timeOrigin + wFrom,
          performance.timeOrigin + wTo,
        ).catch(() => null)) ?? placed;
      const traces = [...workload.tracker.orders.values()].filter(inPhase);
      const saga = workload.tracker.summary(inPhase, 5_000);
      const completedInWindow = [...workload.tracker.orders.values()]
        .map((t) => SagaTracker.completedAt(t))
        .filter((t): t is number => t !== undefined && t >= wFrom && t < wTo).length;
      const cpu = sampler.window(wFrom, wTo);
      const cpuMsPerOrder = Object.fromEntries(
        Object.entries(cpu.perProcess).map(([k, v]) => [
          k,
          v.cpuSeconds === null || !committed ? null : r1((v.cpuSeconds * 1000) / committed),
        ]),
      );
      // Marginal: minus what the process burns when idle over the same time.
      const marginalCpuMsPerOrder = idle
        ? Object.fromEntries(
            Object.entries(cpu.perProcess).map(([k, v]) => [
              k,
              v.cpuSeconds === null || !committed
                ? null
                : r1((Math.max(0, v.cpuSeconds - (idle!.cores[k] ?? 0) * cpu.seconds) * 1000) / committed),
            ]),
          )
        : null;
      const backlogSamples = backlog ? backlog.samples.filter((s) => s.at >= wFrom && s.at <= wTo) : [];
      const total = (s: { pending: number; ackPending: number; outbox: number | null }) =>
        s.pending + s.ackPending + (s.outbox ?? 0);
      const backlogGrowth =
        backlogSamples.length >= 2 ? total(backlogSamples[backlogSamples.length - 1]) - total(backlogSamples[0]) : null;
      const result: Record<string, unknown> = {
        rate: o.rate,
        warmupS: o.warmupS,
        durationS: o.durationS,
        mix: o.mix,
        loadAverage: { windowStart: windowStart.load, windowEnd: windowEnd.load },
        cpuReferenceBefore: reference,
        requests,
        errorsByCode,
        errorRate: measured.length
          ? Math.round((measured.filter((r) => !ok(r)).length / measured.length) * 10_000) / 10_000
          : null,
        placeOrderLatencyMs: summarize(byKind('placeOrder').map((r) => r.latency)),
        updateShipmentStatusLatencyMs: summarize(byKind('updateShipmentStatus').map((r) => r.latency)),
        launchLagMs: summarize(measured.map((r) => r.launchLag)),
        benchEventLoopDelayMs: loopDelayMs(loop),
        placedOrders: placed,
        ordersCommittedInWindow: committed,
        saga: {
          ...saga,
          completedPerSec: r1(completedInWindow / o.durationS),
          completedPerMin: Math.round((completedInWindow / o.durationS) * 60),
        },
        backlogAtLastArrival: windowEnd.backlog,
        backlogAfterDrain,
        backlogGrowthInWindow: backlogGrowth,
        drainMs,
        incompleteAfterDrain: incomplete(),
        cpu,
        cpuMsPerPlacedOrder: cpuMsPerOrder,
        marginalCpuMsPerOrder,
        eventLoopUtilization: windowEnd.elu,
        peakMemoryMb: sampler.peakMemMb(start, performance.now()),
      };
      if (o.detailed) {
        result.stages =
          stack.databases && infra?.instrumented
            ? await stageBreakdown(stack.databases, traces).catch(() => null)
            : null;
        result.peakRssMb = Object.fromEntries(
          stack.processes
            .map((p) => [p.name, (statusKb(p.pid, 'VmHWM') ?? 0) / 1024])
            .map(([k, v]) => [k, r1(v as number)]),
        );
        if (windowEnd.statements && committed) {
          const commits =
            windowEnd.commits && windowStart.commits
              ? Object.fromEntries(
                  Object.entries(windowEnd.commits).map(([k, v]) => [k, v - (windowStart.commits![k] ?? 0)]),
                )
              : {};
          result.sql = Object.fromEntries(
            Object.entries(windowEnd.statements).map(([svc, s]) => [
              svc,
              {
                statements: s.calls,
                statementsPerOrder: r1(s.calls / committed),
                marginalStatementsPerOrder: idle?.statementsPerSec
                  ? r1(Math.max(0, s.calls - (idle.statementsPerSec[svc] ?? 0) * o.durationS) / committed)
                  : null,
                nestedStatementsPerOrder: r1(s.nestedCalls / committed),
                transactionsPerOrder: commits[svc] !== undefined ? r1(commits[svc] / committed) : null,
                marginalTransactionsPerOrder:
                  commits[svc] !== undefined && idle?.commitsPerSec
                    ? r1(Math.max(0, commits[svc] - (idle.commitsPerSec[svc] ?? 0) * o.durationS) / committed)
                    : null,
                execMsPerOrder: Math.round((s.execMs / committed) * 100) / 100,
                top: s.top.map((q) => ({ ...q, perOrder: Math.round((q.calls / committed) * 100) / 100 })),
              },
            ]),
          );
        }
        const origin = start;
        const orderPoints = byKind('placeOrder').map((r) => ({ t: r.scheduled + origin, v: r.latency }));
        // Buckets with ~20 orders each (2 to 10 s), so that a bucket's p95 means something.
        const bucketMs = Math.round(Math.min(10_000, Math.max(2_000, (20 / o.rate) * 1000)) / 1000) * 1000;
        result.series = {
          bucketMs,
          placeOrderLatency: percentilesOverTime(orderPoints, bucketMs, origin),
          updateShipmentLatency: percentilesOverTime(
            byKind('updateShipmentStatus').map((r) => ({ t: r.scheduled + origin, v: r.latency })),
            bucketMs,
            origin,
          ),
          readLatency: percentilesOverTime(
            measured
              .filter((r) => r.kind !== 'placeOrder' && r.kind !== 'updateShipmentStatus')
              .map((r) => ({ t: r.scheduled + origin, v: r.latency })),
            bucketMs,
            origin,
          ),
          answeredPerSec: rateOverTime(
            results.filter((r) => r.kind === 'placeOrder' && r.status !== null).map((r) => r.done + origin),
            bucketMs,
            origin,
            wTo,
          ),
          sagaCompletedPerSec: rateOverTime(
            [...workload.tracker.orders.values()]
              .map((t) => SagaTracker.completedAt(t))
              .filter((t): t is number => t !== undefined && t >= origin),
            bucketMs,
            origin,
            wTo,
          ),
          endToEndLatency: percentilesOverTime(
            traces
              .filter((t) => SagaTracker.completedAt(t) !== undefined)
              .map((t) => ({ t: t.scheduled, v: SagaTracker.completedAt(t)! - t.scheduled })),
            bucketMs,
            origin,
          ),
          backlog: (backlog?.samples ?? [])
            .filter((s) => s.at >= origin)
            .map((s) => ({
              t: r1((s.at - origin) / 1000),
              pending: s.pending,
              ackPending: s.ackPending,
              outbox: s.outbox,
            })),
          cpuCores: sampler.samples
            .filter((s) => s.at >= origin)
            .map((s, i, xs) => {
              if (i === 0) return null;
              const p = xs[i - 1];
              const dt = (s.at - p.at) / 1000;
              const own = Object.fromEntries(
                Object.keys(s.cpu).map((k) => [
                  k,
                  s.cpu[k] !== null && p.cpu[k] !== null
                    ? Math.round(((s.cpu[k]! - p.cpu[k]!) / dt) * 100) / 100
                    : null,
                ]),
              );
              const machineCores =
                s.machineTotal > p.machineTotal
                  ? ((s.machineBusy - p.machineBusy) / (s.machineTotal - p.machineTotal)) * machine.cores
                  : null;
              const ours = Object.values(own).reduce((a: number, x) => a + (x ?? 0), 0);
              return {
                t: r1((s.at - origin) / 1000),
                ...own,
                machine: machineCores === null ? null : Math.round(machineCores * 100) / 100,
                'other processes':
                  machineCores === null ? null : Math.round(Math.max(0, machineCores - ours) * 100) / 100,
              };
            })
            .filter(Boolean),
          e2eDistribution: traces
            .map((t) => SagaTracker.completedAt(t))
            .map((c, i) => (c === undefined ? null : Math.round(c - traces[i].scheduled)))
            .filter((x): x is number => x !== null)
            .sort((a, b) => a - b),
        };
      }
      if (windowEnd.profiles)
        result.profiles = Object.fromEntries(
          Object.entries(windowEnd.profiles).map(([s, path]) => [
            s,
            { file: path.replace(`${ROOT}/`, ''), ...summarizeProfile(path) },
          ]),
        );
      const pr = result.placeOrderLatencyMs as ReturnType<typeof summarize>;
      log(
        `phase ${name}: placeOrder p50 ${pr.p50} p95 ${pr.p95} p99 ${pr.p99} ms; sagas ${saga.completed}/${saga.placed} complete, e2e p50 ${saga.endToEndMs.p50} p95 ${saga.endToEndMs.p95} ms; ` +
          `backlog growth ${backlogGrowth}; errors ${JSON.stringify(errorsByCode)}; machine ${cpu.machineBusyCores} cores busy (ours ${cpu.oursCores}, others ${cpu.otherProcessesCores})`,
      );
      return result;
    }

    // Cold processes (JIT, Prisma's query compiler, connection pools) would make the first phase look worse than the system is.
    /** What the system does with no load at all (relay polling, consumers' pulls, timers): subtracted to get marginal per-order costs. */
    const measureIdle = async (seconds: number) => {
      await sleep(2_000);
      sampler.sample();
      const from = performance.now();
      const c0 = infra?.instrumented ? await commitCounts(infra.pgUrl, stack.databases).catch(() => null) : null;
      if (infra?.instrumented) await resetStatementStats(infra.pgUrl).catch(() => {});
      await sleep(seconds * 1000);
      const st = infra?.instrumented ? await statementStats(infra.pgUrl, stack.databases).catch(() => null) : null;
      const c1 = infra?.instrumented ? await commitCounts(infra.pgUrl, stack.databases).catch(() => null) : null;
      sampler.sample();
      const w = sampler.window(from, performance.now());
      const secs = (performance.now() - from) / 1000;
      return {
        seconds: r1(secs),
        cores: Object.fromEntries(Object.entries(w.perProcess).map(([k, v]) => [k, v.cores])),
        statementsPerSec: st ? Object.fromEntries(Object.entries(st).map(([k, v]) => [k, r1(v.calls / secs)])) : null,
        commitsPerSec:
          c0 && c1 ? Object.fromEntries(Object.entries(c1).map(([k, v]) => [k, r1((v - (c0[k] ?? 0)) / secs)])) : null,
        topStatements: st
          ? Object.fromEntries(
              Object.entries(st).map(([k, v]) => [
                k,
                v.top.slice(0, 4).map((q) => ({ query: q.query, perSec: r1(q.calls / secs) })),
              ]),
            )
          : null,
        otherProcessesCores: w.otherProcessesCores,
      };
    };
    const warm = await runPhase('warmup', {
      rate: Math.max(1, flags.writesRate / 2),
      warmupS: 0,
      durationS: flags.quick ? 8 : 15,
      mix,
      detailed: false,
      drainS: 10,
    });
    report.warmup = { rate: warm.rate, durationS: warm.durationS, placeOrderLatencyMs: warm.placeOrderLatencyMs };
    idle = await measureIdle(flags.quick ? 4 : 6);
    report.idle = idle;
    log(`idle system: ${JSON.stringify(idle.cores)} cores; statements/s ${JSON.stringify(idle.statementsPerSec)}`);
    if (!skip.has('writes'))
      phases.writes = await runPhase('writes', {
        rate: flags.writesRate,
        warmupS: 5,
        durationS: flags.writesDuration,
        mix: NO_READS,
        detailed: true,
        drainS: flags.drain,
      });
    // Profiles in a phase of their own: the sampling profiler costs every process ~0.04 cores, which
    // would count as per-order CPU in the writes phase (auth, which does nothing per order, went from 0.01 to 0.05 cores).
    if (flags.profile) {
      const prof = await runPhase('profile', {
        rate: flags.writesRate,
        warmupS: 2,
        durationS: flags.quick ? 6 : 10,
        mix: NO_READS,
        detailed: false,
        profile: true,
        drainS: 10,
      });
      report.profiles = { rate: prof.rate, durationS: prof.durationS, cpu: prof.cpu, byService: prof.profiles ?? null };
    }
    if (!skip.has('saturation') && flags.steps > 0) {
      // Two verdicts per step. strict (the brief's): placeOrder p95 < 100 ms and the saga keeps up.
      // sustainable (the seed's latency target): placeOrder p95 < 500 ms and the saga keeps up; the
      // search moves on this one (a throughput ceiling), and records the strict one at every step.
      const steps: Record<string, any>[] = [];
      let lo: number | null = null;
      let hi: number | null = null;
      let rate =
        flags.satStart || flags.rate || estimateRate(phases.writes as Record<string, any> | undefined, machine.cores);
      log(
        `saturation: starting at ${r1(rate)} orders/s${flags.satStart || flags.rate ? '' : ' (estimated from the writes phase: 70 % of the CPU left by other processes, divided by the CPU per order)'}`,
      );
      const stepCost = flags.stepWarmup + flags.stepDuration + 10;
      // What the phases after the search need, kept out of the search's share of --budget.
      const reserve =
        (skip.has('main') ? 0 : flags.warmup + flags.duration + 15) +
        (skip.has('physical') ? 0 : flags.rawDuration + 5) +
        (skip.has('gateway') ? 0 : 4 * flags.gatewaySeconds + 6 * flags.dedupSeconds + 30) +
        10;
      const withinBudget = () => (performance.now() - suiteStart) / 1000 + stepCost + reserve <= flags.budget;
      const step = async (at: number) => {
        const res = await runPhase(`step${steps.length + 1}`, {
          rate: r1(at),
          warmupS: flags.stepWarmup,
          durationS: flags.stepDuration,
          mix,
          detailed: false,
          drainS: 15,
        });
        const p95 = (res.placeOrderLatencyMs as { p95: number | null }).p95;
        const saga = res.saga as { placed: number; completedPerSec: number; endToEndMs: { p95: number | null } };
        const placedPerSec = saga.placed / flags.stepDuration;
        const growth = res.backlogGrowthInWindow as number | null;
        const keepsUp = saga.completedPerSec >= 0.9 * placedPerSec && (growth === null || growth <= at * 2);
        const healthy = keepsUp && (res.errorRate as number) < 0.01;
        const strict = healthy && p95 !== null && p95 < 100;
        const sustainable = healthy && p95 !== null && p95 < 500;
        steps.push({
          rate: r1(at),
          pass: strict,
          sustainable,
          placeOrderP95Ms: p95,
          placeOrderP50Ms: (res.placeOrderLatencyMs as { p50: number | null }).p50,
          sagaKeepsUp: keepsUp,
          completedPerSec: saga.completedPerSec,
          placedPerSec: r1(placedPerSec),
          backlogGrowth: growth,
          errorRate: res.errorRate,
          e2eP95Ms: saga.endToEndMs.p95,
          cpu: res.cpu,
          loadAverage: res.loadAverage,
        });
        log(
          `saturation step ${steps.length}: ${r1(at)}/s → strict ${strict ? 'PASS' : 'FAIL'}, sustainable ${sustainable ? 'PASS' : 'FAIL'} (p95 ${p95} ms, saga ${saga.completedPerSec}/s of ${r1(placedPerSec)}/s, backlog growth ${growth})`,
        );
        return sustainable;
      };
      for (let i = 0; i < flags.steps; i++) {
        if (i > 0 && !withinBudget()) {
          log(`saturation: stopping after ${i} steps to stay within --budget ${flags.budget} s`);
          break;
        }
        const ok = await step(rate);
        if (ok) lo = rate;
        else hi = rate;
        if (lo !== null && hi !== null && hi / lo < 1.15) break;
        rate = lo !== null && hi !== null ? (lo + hi) / 2 : ok ? rate * 1.5 : rate / 1.5;
      }
      // No step met the strict latency: one more at a low rate shows the latency floor.
      const lowest = Math.min(...steps.map((x) => x.rate));
      if (!steps.some((x) => x.pass) && lowest > 1.2 && withinBudget())
        await step(Math.max(0.5, Math.min(1, lowest / 2)));
      const strictPassing = steps.filter((x) => x.pass).map((x) => x.rate);
      const lowStep = [...steps].sort((a, b) => a.rate - b.rate)[0];
      phases.saturation = {
        criterion:
          'strict (the brief): placeOrder p95 < 100 ms; sustainable (the seed: order creation p95 < 500 ms); both: saga completions >= 90 % of placements, backlog growth <= 2 s of arrivals over the step, errors < 1 %',
        steps,
        highestPassingRate: strictPassing.length ? Math.max(...strictPassing) : null,
        highestSustainableRate: lo === null ? null : r1(lo),
        lowestFailingRate: hi === null ? null : r1(hi),
        latencyFloor: lowStep
          ? { rate: lowStep.rate, placeOrderP50Ms: lowStep.placeOrderP50Ms, placeOrderP95Ms: lowStep.placeOrderP95Ms }
          : null,
      };
    }

    if (!skip.has('main')) {
      const sat = phases.saturation as
        { highestSustainableRate: number | null; lowestFailingRate: number | null } | undefined;
      const mainRate =
        flags.rate ||
        sat?.highestSustainableRate ||
        (sat?.lowestFailingRate ? r1(sat.lowestFailingRate / 1.5) : null) ||
        estimateRate(phases.writes as Record<string, any> | undefined, machine.cores);
      phases.main = await runPhase('main', {
        rate: r1(mainRate),
        warmupS: flags.warmup,
        durationS: flags.duration,
        mix,
        detailed: true,
        drainS: flags.drain,
      });
      (phases.main as Record<string, unknown>).rateChosenBy = flags.rate
        ? '--rate'
        : sat?.highestSustainableRate
          ? 'the highest sustainable rate of the saturation search'
          : 'an estimate (no saturation step was sustainable)';
    }

    if (!skip.has('physical') && infra) {
      log(`phase physical: raw SQL, ${flags.rawClients} clients, ${flags.rawDuration} s`);
      sampler.sample();
      const from = performance.now();
      const load = loadAverage();
      const raw = await physicalLimit({
        pgUrl: infra.pgUrl,
        clients: flags.rawClients,
        durationS: flags.rawDuration,
        random,
      });
      sampler.sample();
      const cpu = sampler.window(from, performance.now());
      phases.physical = {
        ...raw,
        loadAverage: { start: load, end: loadAverage() },
        cpu,
        postgresCpuMsPerOrder:
          cpu.perProcess.postgres?.cpuSeconds != null && raw.orders
            ? Math.round(((cpu.perProcess.postgres.cpuSeconds * 1000) / raw.orders) * 100) / 100
            : null,
        benchCpuMsPerOrder:
          cpu.perProcess.bench?.cpuSeconds != null && raw.orders
            ? Math.round(((cpu.perProcess.bench.cpuSeconds * 1000) / raw.orders) * 100) / 100
            : null,
      };
      log(
        `phase physical: ${raw.ordersPerSec} orders/s, transaction p50 ${raw.transactionMs.p50} p99 ${raw.transactionMs.p99} ms; machine ${cpu.machineBusyCores} busy, others ${cpu.otherProcessesCores}`,
      );
    }

    /**
     * One order page (an order with its shipment) for each of `count` customers: the orders placed so
     * far, one per customer, and a new order for each customer still without one (its saga awaited).
     */
    const orderPagesOfDistinctCustomers = async (count: number): Promise<ReadTarget[]> => {
      const tracker = workload.tracker;
      const withOrder = new Set([...tracker.orders.values()].map((t) => t.customer));
      const missing = workload.customers
        .map((_, i) => i)
        .filter((i) => !withOrder.has(i))
        .slice(0, Math.max(0, count - withOrder.size));
      for (const customer of missing) {
        const body = JSON.stringify({
          query: PLACE_ORDER,
          variables: { input: orderInput(workload.productIds, random, `pages-${runId}-${customer}`) },
        });
        const at = performance.now();
        const r = await call(
          `${stack.gatewayUrl}/graphql`,
          body,
          { authorization: `Bearer ${workload.customers[customer].accessToken}` },
          flags.timeout * 1000,
          'placeOrder',
        );
        if (r.outcome === 'OrderPlaced')
          tracker.placed(r.body!.data!.placeOrder.order.id as string, customer, at, performance.now(), false);
      }
      const byCustomer = () => {
        const out = new Map<number, ReadTarget>();
        for (const t of tracker.orders.values())
          if (t.shipmentSeen !== undefined && !out.has(t.customer))
            out.set(t.customer, {
              orderId: t.orderId,
              customerId: workload.customers[t.customer].id,
              accessToken: workload.customers[t.customer].accessToken,
            });
        return out;
      };
      for (const until = performance.now() + 60_000; byCustomer().size < count && performance.now() < until;)
        await sleep(500);
      return [...byCustomer().values()].slice(0, count);
    };

    if (!skip.has('gateway') && stack.mode !== 'external') {
      const targets = [...w.tracker.orders.values()]
        .filter((t) => t.shipmentSeen !== undefined)
        .slice(-200)
        .map((t) => ({
          orderId: t.orderId,
          customerId: w!.customers[t.customer].id,
          accessToken: w!.customers[t.customer].accessToken,
        }));
      if (targets.length) {
        log(`phase gateway: the order page through the gateway vs straight at the subgraphs, ${targets.length} orders`);
        const load = loadAverage();
        const cost = await measureGatewayCost({
          gatewayUrl: stack.gatewayUrl,
          urls: stack.urls,
          targets,
          sampler,
          seconds: flags.gatewaySeconds,
        });
        phases.gateway = { ...cost, loadAverage: { start: load, end: loadAverage() } };
        log(`phase gateway: ratios ${JSON.stringify(cost.ratios)}; same answer: ${cost.sameAnswer}`);
        if (flags.dedupSeconds > 0 && stack.mode === 'processes') {
          const pages = await orderPagesOfDistinctCustomers(flags.gatewayPages);
          log(
            `phase gateway: deduplication, ${flags.gatewayConnections} connections: one order page, then ${pages.length} customers' pages (gateways with GATEWAY_DEDUP=on and off, and direct)`,
          );
          const dedup = await measureDedup({
            stackEnv: stack.env,
            urls: stack.urls,
            samePage: targets[targets.length - 1],
            differentPages: pages,
            sampler,
            seconds: flags.dedupSeconds,
            connections: flags.gatewayConnections,
            port: benchPort,
            log,
          });
          (phases.gateway as Record<string, unknown>).dedup = dedup;
          log(`phase gateway: deduplication ${JSON.stringify(dedup.targets)}`);
        }
      } else log('phase gateway: skipped (no order with a shipment)');
    }

    backlog?.stop();
    sampler.stop();
    report.subscribers = {
      deliveries: w.tracker.deliveries,
      duplicates: w.tracker.duplicateDeliveries,
      errors: w.subscribers?.errors.slice(0, 10) ?? [],
      closes: w.subscribers?.closes ?? {},
    };
    report.emailsSent = infra?.mailCount() ?? null;
    report.peakRssMbWholeRun = Object.fromEntries(
      stack.processes.map((p) => [p.name, r1((statusKb(p.pid, 'VmHWM') ?? 0) / 1024)]),
    );
    report.peakMemoryMbSampled = sampler.peakMemMb();
    report.cpuWholeRun = sampler.window(sampler.samples[0].at, sampler.samples[sampler.samples.length - 1].at);
    report.machine = { ...machine, loadAtEnd: loadAverage(), cpuReferenceAtEnd: cpuReference() };
    report.durationS = Math.round((performance.now() - suiteStart) / 1000);
  } catch (err) {
    log(`failed: ${(err as Error).stack ?? String(err)}`);
    report.failure = (err as Error).message;
  }
  await w?.close().catch(() => {});
  await booted.cleanup();
  mkdirSync(flags.outDir, { recursive: true });
  writeFileSync(join(flags.outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  const files = writeReport(report as never, flags.outDir);
  log(`written ${join(flags.outDir, 'report.json')}, ${files.join(', ')}`);
  return report.failure ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
