/**
 * The whole saga at a fixed arrival rate of orders (tok_visa): how many
 * orders per second go all the way from placeOrder to PENDING_SHIPMENT with
 * a shipment created, how long that takes end to end as a customer's app
 * sees it, and what is left in the queues at the end.
 *
 * What is measured, per order:
 *   t0  the scheduled start of its placeOrder call (open model: arrivals do
 *       not wait for earlier answers, so queueing shows);
 *   t1  its customer's graphql-ws subscription (myOrderUpdates, opened
 *       before the load) receives PENDING_SHIPMENT;
 *   t2  shipments.created — published by the shipments service after it
 *       committed the shipment — reaches the bench's NATS subscription.
 *   end-to-end = max(t1, t2) − t0 ("complete"). After the run the
 *   databases' commit timestamps break that time down by step.
 * Backlog: num_pending / num_ack_pending of every durable JetStream
 * consumer (jsm.consumers.list) and unpublished outbox rows, when the last
 * order has arrived and again after the drain.
 *
 *   npm run bench:saga -- --rate 10 --duration 30
 *   npm run bench:saga -- --in-process            # all services in the bench process
 *   npm run bench:saga -- --gateway http://127.0.0.1:4000 --nats-url nats://127.0.0.1:4222   # a running system
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { log } from './support/boot.ts';
import { runBenchmark } from './support/run.ts';
import { SYSTEM_FLAGS, parseFlags } from './support/cli.ts';
import { runOpenModel } from './support/load.ts';
import { BacklogSampler, outboxBacklog, stageBreakdown, type OrderTrace } from './support/saga.ts';
import { countBy, loopDelayMs, summarize } from './support/stats.ts';
import { NO_READS, phaseArrivals, prepareWorkload } from './support/workload.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TARGET_PER_MIN = 10_000;
const TARGET_CONSISTENT_MS = 5_000;

const flags = parseFlags(
  process.argv.slice(2),
  {
    rate: { type: 'number', default: 10, min: 0.1, help: 'orders per second (fixed arrival rate)' },
    duration: { type: 'number', default: 30, min: 1, help: 'measured seconds' },
    warmup: {
      type: 'number',
      default: 10,
      min: 0,
      help: 'seconds before that, run but not measured (cold processes: JIT, pools)',
    },
    drain: {
      type: 'number',
      default: 60,
      min: 0,
      help: 'seconds to wait after the last arrival for sagas to complete',
    },
    timeout: { type: 'number', default: 10, min: 0.1, help: 'per-request timeout, seconds' },
    products: { type: 'number', default: 200, min: 5, help: 'products to create' },
    customers: {
      type: 'number',
      default: 200,
      min: 1,
      help: 'customers to sign up; each follows its orders on one graphql-ws socket',
    },
    natsUrl: {
      type: 'string',
      default: null,
      help: 'with --gateway: the NATS of that system (to see shipments.created and the backlog)',
    },
    natsPrefix: { type: 'string', default: '', help: 'with --gateway: its NATS_PREFIX' },
    out: { type: 'string', default: resolve(ROOT, 'docs/bench/saga-latest.json'), help: 'where the JSON summary goes' },
    ...SYSTEM_FLAGS,
  },
  'npm run bench:saga -- [options]',
);

runBenchmark(flags, async ({ booted, runId, random, machine, summaryOf }) => {
  const { stack, infra, sampler } = booted;
  const w = await prepareWorkload(booted, {
    products: flags.products,
    customers: flags.customers,
    runId,
    random,
    opsSecret: flags.opsSecret,
    subscribe: true,
    natsUrl: flags.natsUrl,
    natsPrefix: flags.natsPrefix,
  });
  const backlog = w.nats ? new BacklogSampler(w.nats, stack.databases) : null;
  const arrivals = phaseArrivals(w, {
    rate: flags.rate,
    warmupS: flags.warmup,
    durationS: flags.duration,
    timeoutMs: flags.timeout * 1000,
    mix: NO_READS,
    random,
    keyPrefix: `saga-${runId}`,
  });
  log(`placing ${arrivals.length} orders at ${flags.rate}/s: ${flags.warmup} s warm-up + ${flags.duration} s measured`);

  const loop = monitorEventLoopDelay({ resolution: 5 });
  sampler.start();
  backlog?.start();
  const t0 = performance.now();
  const windowFrom = t0 + flags.warmup * 1000;
  const windowTo = windowFrom + flags.duration * 1000;
  setTimeout(() => loop.enable(), flags.warmup * 1000).unref();
  const run = runOpenModel(arrivals, {
    onTick: (ms, launched, finished) =>
      log(
        `t=${(ms / 1000).toFixed(0)}s launched=${launched} answered=${finished} sagas incomplete=${w.tracker.incomplete()} backlog=${backlog?.totalNear(performance.now()) ?? '?'}`,
      ),
  });
  // Backlog the moment the last order has arrived (not when its answer came).
  const lastArrival = t0 + (flags.warmup + flags.duration) * 1000;
  const atLastArrival = new Promise<Awaited<ReturnType<NonNullable<typeof w.nats>['backlog']>> | null>((res) =>
    setTimeout(
      () =>
        void (w.nats
          ? Promise.all([w.nats.backlog(), outboxBacklog(stack.databases)]).then(
              ([b, o]) => res({ ...b, outbox: o } as never),
              () => res(null),
            )
          : res(null)),
      lastArrival - performance.now(),
    ),
  );
  const { results } = await run;
  loop.disable();
  const backlogAtLastArrival = await atLastArrival;
  const answeredAt = performance.now();

  // Drain: until every placed order completed, or the time is up.
  const drainUntil = performance.now() + flags.drain * 1000;
  while (w.tracker.incomplete() > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 250));
  const drainedAt = performance.now();
  backlog?.stop();
  sampler.stop();
  const backlogAfterDrain = w.nats
    ? { ...(await w.nats.backlog()), outbox: await outboxBacklog(stack.databases) }
    : null;
  log(
    `drain: ${Math.round(drainedAt - answeredAt)} ms after the last answer, ${w.tracker.incomplete()} sagas incomplete`,
  );

  // ---- stats over the measured window
  const measured = results.filter((r) => r.measured);
  const measuredTraces = [...w.tracker.orders.values()].filter((o) => o.measured);
  const saga = w.tracker.summary((o) => o.measured, TARGET_CONSISTENT_MS);
  const completions = [...w.tracker.orders.values()]
    .map((o) => ({ o, at: completedAt(o) }))
    .filter((x) => x.at !== undefined);
  // Throughput: sagas of the orders that arrived in the window that completed, per second of the window
  // (completions seen in the window can exceed the arrival rate while a warm-up backlog drains).
  const completedInWindow = completions.filter((x) => x.at! >= windowFrom && x.at! < windowTo).length;
  const completedPerSec = Math.min(saga.completed, completedInWindow) / flags.duration;
  const stages = stack.databases && infra?.instrumented ? await stageBreakdown(stack.databases, measuredTraces) : null;
  const cpu = sampler.window(windowFrom, windowTo);
  const placedInWindow = measured.filter((r) => r.outcome === 'OrderPlaced').length;
  const cpuMsPerOrder = Object.fromEntries(
    Object.entries(cpu.perProcess).map(([k, v]) => [
      k,
      v.cpuSeconds === null || !placedInWindow ? null : Math.round((v.cpuSeconds * 1000 * 10) / placedInWindow) / 10,
    ]),
  );
  const summary = summaryOf(
    'saga',
    {
      rate: flags.rate,
      durationS: flags.duration,
      warmupS: flags.warmup,
      products: flags.products,
      customers: flags.customers,
      subscribers: w.subscribers?.open ?? 0,
      paymentToken: 'tok_visa',
      linesPerOrder: '1-5',
      env: flags.env,
      hashCost: flags.hashCost || null,
    },
    {
      target: {
        ordersPerMinute: TARGET_PER_MIN,
        ordersPerSecond: Math.round((TARGET_PER_MIN / 60) * 10) / 10,
        consistentWithinMs: TARGET_CONSISTENT_MS,
      },
      results: {
        arrivalRate: flags.rate,
        placeOrder: {
          outcomes: countBy(measured, (r) => r.outcome),
          latencyMs: summarize(measured.map((r) => r.latency)),
          launchLagMs: summarize(measured.map((r) => r.launchLag)),
        },
        sagaCompletedPerSec: Math.round(completedPerSec * 10) / 10,
        completionsObservedInWindowPerSec: Math.round((completedInWindow / flags.duration) * 10) / 10,
        sagaCompletedPerMin: Math.round(completedPerSec * 60),
        shareOfTarget: Math.round((completedPerSec * 60 * 1000) / TARGET_PER_MIN) / 1000,
        saga,
        stages,
        subscriber: {
          deliveries: w.tracker.deliveries,
          duplicates: w.tracker.duplicateDeliveries,
          errors: w.subscribers?.errors.slice(0, 10) ?? [],
          closes: w.subscribers?.closes ?? {},
        },
        backlogAtLastArrival,
        backlogAfterDrain,
        drainMs: Math.round(drainedAt - answeredAt),
        incompleteAfterDrain: w.tracker.incomplete(),
        emailsSent: infra?.mailCount() ?? null,
        cpu: { ...cpu, msPerPlacedOrder: cpuMsPerOrder },
        peakMemoryMb: sampler.peakMemMb(),
        benchEventLoopDelayMs: loopDelayMs(loop),
      },
    },
  );
  await w.close();

  const r = summary.results;
  const s = r.saga;
  const pad = (x: string) => x.padEnd(30);
  const fmt = (m: { p50: number | null; p95: number | null; p99: number | null; max: number | null; count: number }) =>
    `p50 ${m.p50}  p95 ${m.p95}  p99 ${m.p99}  max ${m.max}  (n=${m.count})`;
  const lines = [
    '',
    'Saga benchmark: placeOrder (tok_visa) at a fixed arrival rate → PENDING_SHIPMENT seen by a subscriber + shipment created',
    `${pad('machine')}${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB; load average ${machine.loadAtStart.raw} at start, ${summary.machine.loadAtEnd.raw} at end; reference work ${machine.cpuReferenceAtStart.cpuMs} ms CPU in ${machine.cpuReferenceAtStart.wallMs} ms wall`,
    `${pad('CPU during the window')}machine ${cpu.machineBusyCores} cores busy: ours ${cpu.oursCores}, other processes ${cpu.otherProcessesCores}`,
    `${pad('per process (cores)')}${Object.entries(cpu.perProcess)
      .map(([k, v]) => `${k} ${v.cores}`)
      .join(', ')}`,
    `${pad('CPU ms per placed order')}${Object.entries(cpuMsPerOrder)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `${pad('target')}${summary.config.target} ${stack.gatewayUrl}, PostgreSQL ${summary.config.postgres}`,
    `${pad('arrivals')}${flags.rate}/s for ${flags.duration} s (+${flags.warmup} s warm-up), ${flags.customers} customers each subscribed, ${flags.products} products`,
    `${pad('placeOrder outcomes')}${Object.entries(r.placeOrder.outcomes)
      .map(([k, v]) => `${k}=${v}`)
      .join('  ')}`,
    `${pad('placeOrder latency ms')}${fmt(r.placeOrder.latencyMs)}`,
    `${pad('sagas completed')}${r.sagaCompletedPerSec}/s = ${r.sagaCompletedPerMin}/min in the window → ${Math.round(r.shareOfTarget * 1000) / 10}% of the seed's ${TARGET_PER_MIN}/min`,
    `${pad('completion')}${s.completed}/${s.placed} orders placed in the window (${s.completionRate === null ? '-' : Math.round(s.completionRate * 1000) / 10}%); ${s.withinDeadline} within ${TARGET_CONSISTENT_MS / 1000} s (${s.withinDeadlineRate === null ? '-' : Math.round(s.withinDeadlineRate * 1000) / 10}%, target: every system within 5 s)`,
    `${pad('end-to-end ms')}${fmt(s.endToEndMs)}`,
    `${pad('  → subscriber PENDING_SHIPMENT')}${fmt(s.toSubscriberPendingShipmentMs)}`,
    `${pad('  → shipments.created on NATS')}${fmt(s.toShipmentCreatedMs)}`,
    ...(stages
      ? [
          `${pad('stages (commit timestamps) p50/p95')}start→placed commit ${stages.scheduledToPlacedCommitMs.p50}/${stages.scheduledToPlacedCommitMs.p95}; placed→paid commit ${stages.placedCommitToPaidCommitMs.p50}/${stages.placedCommitToPaidCommitMs.p95}; paid→shipment commit ${stages.paidCommitToShipmentCommitMs.p50}/${stages.paidCommitToShipmentCommitMs.p95}; paid commit→subscriber ${stages.paidCommitToSubscriberMs.p50}/${stages.paidCommitToSubscriberMs.p95}; shipment commit→NATS ${stages.shipmentCommitToEventMs.p50}/${stages.shipmentCommitToEventMs.p95}`,
        ]
      : []),
    `${pad('backlog at last arrival')}${describeBacklog(r.backlogAtLastArrival)}`,
    `${pad('backlog after drain')}${describeBacklog(r.backlogAfterDrain)} (drain ${r.drainMs} ms, ${r.incompleteAfterDrain} incomplete)`,
    `${pad('subscriber')}${r.subscriber.deliveries} payloads, ${r.subscriber.duplicates} duplicates, ${r.subscriber.errors.length} errors`,
    `${pad('bench event loop delay ms')}p50 ${r.benchEventLoopDelayMs.p50}  p99 ${r.benchEventLoopDelayMs.p99}  max ${r.benchEventLoopDelayMs.max}`,
  ];
  return { summary, lines, pad };
});

function completedAt(o: OrderTrace) {
  const a = o.seen.PENDING_SHIPMENT;
  const b = o.shipmentSeen;
  return a !== undefined && b !== undefined ? Math.max(a, b) : undefined;
}

function describeBacklog(
  b: {
    consumers: { consumer: string; numPending: number; numAckPending: number }[];
    outbox?: Record<string, number> | null;
  } | null,
): string {
  if (!b) return 'n/a';
  const busy = b.consumers
    .filter((c) => c.numPending || c.numAckPending)
    .map((c) => `${c.consumer} ${c.numPending}/${c.numAckPending}`);
  const outbox = b.outbox
    ? Object.entries(b.outbox)
        .filter(([, n]) => n)
        .map(([k, n]) => `${k} ${n}`)
    : [];
  return `${busy.length ? `pending/ack-pending: ${busy.join(', ')}` : 'every consumer at 0/0'}${outbox.length ? `; unpublished outbox: ${outbox.join(', ')}` : '; outbox empty'}`;
}
