/**
 * placeOrder through the gateway at a fixed arrival rate (open model).
 *
 * Requests are launched on a fixed schedule whether or not earlier ones have
 * finished, and each latency is measured from the request's *scheduled* start,
 * so queueing anywhere (including in this process's own event loop) shows up
 * in the numbers instead of being hidden (no coordinated omission).
 *
 * By default it boots its own PostgreSQL, nats-server and SMTP sink, and the
 * four subgraphs and the gateway as separate processes (as `npm start`
 * does); `--in-process` runs the services inside the bench process instead
 * (one event loop for everything: handy for profiling, pessimistic), and
 * `--gateway URL` targets a running system.
 *
 *   npm run bench:orders -- --rate 30 --duration 30 --warmup 5
 *   npm run bench:orders -- --gateway http://127.0.0.1:4000   # a system started with `npm start`
 *   npm run bench:orders -- --help
 *
 * The customers are real accounts: the bench signs up a pool of them
 * through the gateway (signUp, a few at a time: each costs a scrypt hash)
 * and places each order with one of their access tokens; the products are
 * created with an ops-console client-credentials token.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { log } from './support/boot.ts';
import { runBenchmark } from './support/run.ts';
import { SYSTEM_FLAGS, parseFlags } from './support/cli.ts';
import { PLACE_ORDER, call, orderInput } from './support/graphql.ts';
import { runOpenModel, schedule } from './support/load.ts';
import { countBy, loopDelayMs, summarize } from './support/stats.ts';
import { prepareWorkload } from './support/workload.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const flags = parseFlags(
  process.argv.slice(2),
  {
    rate: { type: 'number', default: 30, min: 0.001, help: 'arrivals per second' },
    duration: { type: 'number', default: 20, min: 0.001, help: 'measured seconds' },
    warmup: { type: 'number', default: 3, min: 0, help: 'seconds before that, run but not measured' },
    timeout: { type: 'number', default: 10, min: 0.001, help: 'per-request timeout, seconds' },
    products: { type: 'number', default: 200, min: 5, help: 'products to create' },
    customers: {
      type: 'number',
      default: 200,
      min: 1,
      help: 'distinct customers, signed up (real accounts, real tokens) before the run',
    },
    out: {
      type: 'string',
      default: resolve(ROOT, 'docs/bench/orders-latest.json'),
      help: 'where the JSON summary goes',
    },
    ...SYSTEM_FLAGS,
  },
  'npm run bench:orders -- [options]',
);

runBenchmark(flags, async ({ booted, runId, random, machine, summaryOf }) => {
  const { stack, infra, sampler } = booted;
  const { gateway, productIds, customers, close } = await prepareWorkload(booted, {
    products: flags.products,
    customers: flags.customers,
    runId,
    random,
    opsSecret: flags.opsSecret,
    subscribe: false,
    watchShipments: false,
  });
  // Nothing is left open without subscribers or a NATS watch; closed anyway should that change.
  await close();

  const url = `${gateway}/graphql`;
  const arrivals = schedule('placeOrder', flags.rate, 0, flags.warmup + flags.duration, flags.warmup, 0, (i) => {
    const customer = customers[Math.floor(random() * customers.length)];
    const body = JSON.stringify({
      query: PLACE_ORDER,
      variables: { input: orderInput(productIds, random, `bench-${runId}-${i}`) },
    });
    return () =>
      call(url, body, { authorization: `Bearer ${customer.accessToken}` }, flags.timeout * 1000, 'placeOrder');
  });
  log(
    `running ${arrivals.length} placeOrder requests at ${flags.rate}/s: ${flags.warmup} s warm-up + ${flags.duration} s measured`,
  );

  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  sampler.start();
  const t0 = performance.now();
  const windowFrom = t0 + flags.warmup * 1000;
  const windowTo = windowFrom + flags.duration * 1000;
  setTimeout(() => loopDelay.enable(), flags.warmup * 1000).unref();
  const { results } = await runOpenModel(arrivals, {
    onTick: (ms, launched, finished) =>
      log(`t=${(ms / 1000).toFixed(1)}s launched=${launched} finished=${finished} in-flight=${launched - finished}`),
  });
  loopDelay.disable();
  sampler.stop();

  const measured = results.filter((r) => r.measured);
  const wFrom = flags.warmup * 1000;
  const wTo = wFrom + flags.duration * 1000;
  const placedInWindow = results.filter((r) => r.outcome === 'OrderPlaced' && r.done >= wFrom && r.done < wTo).length;
  const answeredInWindow = results.filter((r) => r.status !== null && r.done >= wFrom && r.done < wTo).length;
  const launched = measured.map((r) => r.launched);
  const span = Math.max(...launched) - Math.min(...launched);
  const cpu = sampler.window(windowFrom, windowTo);
  const ours = Object.values(cpu.perProcess).reduce((a, p) => a + (p.cpuSeconds ?? 0), 0);
  const summary = summaryOf(
    'orders.placeOrder',
    {
      rate: flags.rate,
      durationS: flags.duration,
      warmupS: flags.warmup,
      timeoutS: flags.timeout,
      products: flags.products,
      customers: flags.customers,
      linesPerOrder: '1-5',
      quantityPerLine: '1-3',
      seed: flags.seed,
      env: flags.env,
    },
    {
      results: {
        requests: measured.length,
        targetRate: flags.rate,
        achievedArrivalRate: measured.length > 1 ? Math.round((((measured.length - 1) * 1000) / span) * 10) / 10 : null,
        completedOrdersPerSec: Math.round((placedInWindow / flags.duration) * 10) / 10,
        responsesPerSec: Math.round((answeredInWindow / flags.duration) * 10) / 10,
        outcomes: countBy(measured, (r) => r.outcome),
        httpStatus: countBy(measured, (r) => (r.status === null ? 'none' : String(r.status))),
        latencyMs: summarize(measured.map((r) => r.latency)),
        latencyOrderPlacedMs: summarize(measured.filter((r) => r.outcome === 'OrderPlaced').map((r) => r.latency)),
        launchLagMs: summarize(measured.map((r) => r.launchLag)),
        eventLoopDelayMs: loopDelayMs(loopDelay),
        cpu: {
          ...cpu,
          msPerResponse: answeredInWindow ? Math.round(((ours * 1000) / answeredInWindow) * 10) / 10 : null,
        },
        peakMemoryMb: sampler.peakMemMb(),
        drainAfterLastArrivalMs: Math.round(Math.max(...results.map((r) => r.done)) - arrivals[arrivals.length - 1].at),
      },
    },
  );

  const r = summary.results;
  const L = r.latencyMs;
  const ok = r.latencyOrderPlacedMs;
  const pad = (s: string) => s.padEnd(27);
  const lines = [
    '',
    'placeOrder benchmark (open model, fixed arrival rate; latency from scheduled start)',
    `${pad('machine')}${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, node ${machine.node}; load average ${machine.loadAtStart.raw} at start, ${summary.machine.loadAtEnd.raw} at end`,
    `${pad('target')}${stack.mode} ${gateway}${infra ? `, PostgreSQL ${summary.config.postgres}` : ''}`,
    `${pad('config')}rate ${flags.rate}/s, ${flags.duration} s measured + ${flags.warmup} s warm-up, timeout ${flags.timeout} s, ${flags.products} products, ${flags.customers} customers, 1-5 lines x 1-3 units${Object.keys(flags.env).length ? `, env ${JSON.stringify(flags.env)}` : ''}`,
    `${pad('requests measured')}${measured.length}`,
    `${pad('achieved arrival rate')}${r.achievedArrivalRate}/s (target ${flags.rate}/s)`,
    `${pad('completed orders/s')}${r.completedOrdersPerSec} (HTTP responses of any kind ${r.responsesPerSec}/s)`,
    `${pad('latency (all) ms')}p50 ${L.p50}  p90 ${L.p90}  p95 ${L.p95}  p99 ${L.p99}  p99.9 ${L.p999}  max ${L.max}  mean ${L.mean}`,
    `${pad('latency (OrderPlaced) ms')}p50 ${ok.p50}  p95 ${ok.p95}  p99 ${ok.p99}  max ${ok.max}  (n=${ok.count})`,
    `${pad('outcomes')}${Object.entries(r.outcomes)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k}=${v}`)
      .join('  ')}`,
    `${pad('launch lag ms')}p50 ${r.launchLagMs.p50}  p99 ${r.launchLagMs.p99}  max ${r.launchLagMs.max}`,
    `${pad('bench event loop delay ms')}p50 ${r.eventLoopDelayMs.p50}  p99 ${r.eventLoopDelayMs.p99}  max ${r.eventLoopDelayMs.max}${stack.mode === 'in-process' ? '  (shared with the in-process services)' : ''}`,
    `${pad('CPU (cores busy)')}machine ${cpu.machineBusyCores}: ${Object.entries(cpu.perProcess)
      .map(([k, v]) => `${k} ${v.cores}`)
      .join(', ')}; other processes ${cpu.otherProcessesCores}`,
    `${pad('CPU per HTTP response')}${r.cpu.msPerResponse} ms (all our processes)`,
    `${pad('drain after last arrival')}${r.drainAfterLastArrivalMs} ms`,
  ];
  return { summary, lines, pad };
});
