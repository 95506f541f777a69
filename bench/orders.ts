/**
 * placeOrder through the gateway at a fixed arrival rate (open model).
 *
 * Requests are launched on a fixed schedule whether or not earlier ones have
 * finished, and each latency is measured from the request's *scheduled* start,
 * so queueing anywhere (including in this process's own event loop) shows up
 * in the numbers instead of being hidden (no coordinated omission).
 *
 *   npm run bench:orders -- --rate 100 --duration 30 --warmup 5
 *   npm run bench:orders -- --gateway http://127.0.0.1:4000   # a system started with `npm start`
 *
 * Options:
 *   --rate N        arrivals per second (default 50)
 *   --duration S    measured seconds (default 20)
 *   --warmup S      seconds before that, run but not measured (default 3)
 *   --timeout S     per-request timeout (default 10)
 *   --gateway URL   target a running system instead of booting one here
 *   --ephemeral     own PostgreSQL without fsync/synchronous_commit (default: durable)
 *   --products N    products to create (default 200)
 *   --customers N   distinct customers, signed up (real accounts, real tokens) before the run (default 200)
 *   --ops-secret S  the ops-console client's secret, to create products (default: its development secret)
 *   --seed N        seed of the order generator (default 1)
 *   --env K=V       extra environment for the in-process services (repeatable), e.g. --env DB_POOL_SIZE=20
 *   --out PATH      where the JSON summary goes (default docs/bench/orders-latest.json)
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { DEV_CLIENT_SECRETS, clientToken, processTreeCpuSeconds, signUpCustomers, startInfra, startStack, type Infra, type Stack } from './support/stack.ts';

// ---------------------------------------------------------------- options

interface Options {
  rate: number;
  duration: number;
  warmup: number;
  timeout: number;
  gateway: string | null;
  ephemeral: boolean;
  products: number;
  customers: number;
  opsSecret: string;
  seed: number;
  env: Record<string, string>;
  out: string;
}

/** How long the in-process services get to finish their work at the end. */
const STOP_GRACE_MS = 20_000;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function usage(message: string): never {
  process.stderr.write(`${message}\nSee the header of bench/orders.ts for the options.\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    rate: 50,
    duration: 20,
    warmup: 3,
    timeout: 10,
    gateway: null,
    ephemeral: false,
    products: 200,
    customers: 200,
    opsSecret: DEV_CLIENT_SECRETS['ops-console'],
    seed: 1,
    env: {},
    out: resolve(ROOT, 'docs/bench/orders-latest.json'),
  };
  const num = (name: string, v: string | undefined, min: number) => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < min) usage(`--${name} needs a number >= ${min}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const [flag, inline] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--rate': o.rate = num('rate', value(), 0.001); break;
      case '--duration': o.duration = num('duration', value(), 0.001); break;
      case '--warmup': o.warmup = num('warmup', value(), 0); break;
      case '--timeout': o.timeout = num('timeout', value(), 0.001); break;
      case '--products': o.products = Math.floor(num('products', value(), 5)); break;
      case '--customers': o.customers = Math.floor(num('customers', value(), 1)); break;
      case '--ops-secret': o.opsSecret = value() ?? usage('--ops-secret needs the ops-console client secret'); break;
      case '--seed': o.seed = Math.floor(num('seed', value(), 0)); break;
      case '--ephemeral': o.ephemeral = true; break;
      case '--out': o.out = resolve(value() ?? usage('--out needs a path')); break;
      case '--gateway': {
        const url = value();
        if (!url || !/^https?:\/\//.test(url)) usage('--gateway needs an http(s) URL');
        o.gateway = url.replace(/\/+$/, '').replace(/\/graphql$/, '');
        break;
      }
      case '--env': {
        const kv = value();
        const m = kv?.match(/^([A-Z_][A-Z0-9_]*)=(.*)$/s);
        if (!m) usage('--env needs KEY=VALUE');
        o.env[m[1]] = m[2];
        break;
      }
      case '--help':
      case '-h':
        usage('Usage: npm run bench:orders -- [--rate N] [--duration S] [--warmup S] [--timeout S] [--gateway URL] [--ephemeral] [--env K=V]');
      default:
        usage(`Unknown option ${arg}`);
    }
  }
  if (o.gateway && (o.ephemeral || Object.keys(o.env).length)) usage('--ephemeral and --env apply only to the in-process stack, not with --gateway');
  return o;
}

// ---------------------------------------------------------------- GraphQL

const CREATE_PRODUCT = `mutation($input: CreateProductInput!) { createProduct(input: $input) { id availableQuantity } }`;

/** What a client would ask for after placing an order (same selection as test/support/system.ts). */
const PLACE_ORDER = `mutation($input: PlaceOrderInput!) {
  placeOrder(input: $input) {
    __typename
    ... on OrderPlaced { order { id status customerId totalAmount { amount currencyCode } items { productId quantity unitPrice { amount } lineTotal { amount } } statusHistory { previousStatus status } } }
    ... on ProductsUnavailable { message unavailableItems { productId requested available isAvailable } }
    ... on InvalidOrder { message field }
  }
}`;

interface GraphQLBody {
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

async function graphql(gateway: string, query: string, variables: unknown, headers: Record<string, string>, timeoutMs = 30_000) {
  const res = await fetch(`${gateway}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await res.json()) as GraphQLBody;
  if (!res.ok || body.errors?.length) throw new Error(`HTTP ${res.status}: ${JSON.stringify(body.errors ?? body)}`);
  return body.data!;
}

/** Products with stock that never runs out during a run, created through the gateway as an operator (ops-console token). */
async function seedProducts(gateway: string, operator: Record<string, string>, count: number, runId: string, random: () => number): Promise<string[]> {
  const ids: string[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const cents = 100 + Math.floor(random() * 9900);
      const input = {
        sku: `BENCH-${runId}-${String(i).padStart(4, '0')}`,
        name: `Bench product ${i}`,
        price: (cents / 100).toFixed(2),
        initialStock: 1_000_000,
      };
      const data = await graphql(gateway, CREATE_PRODUCT, { input }, operator);
      ids[i] = data.createProduct.id;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return ids;
}

// ---------------------------------------------------------------- load

/** Small deterministic PRNG (mulberry32), so a seed gives the same orders. */
function prng(seed: number) {
  let a = seed >>> 0 || 0x9e3779b9;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Planned {
  /** ms after the start of the run (performance.now() base) */
  scheduled: number;
  measured: boolean;
  /** Index into the pool of signed-up customers. */
  customer: number;
  body: string;
}

function planRequests(o: Options, productIds: string[], runId: string, random: () => number): Planned[] {
  const total = Math.round(o.rate * (o.warmup + o.duration));
  const warmupCount = Math.round(o.rate * o.warmup);
  const plan: Planned[] = new Array(total);
  const address = { name: 'Ada Lovelace', line1: '12 St James Sq', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' };
  for (let i = 0; i < total; i++) {
    const lines = 1 + Math.floor(random() * 5);
    const picked = new Set<string>();
    while (picked.size < lines) picked.add(productIds[Math.floor(random() * productIds.length)]);
    const items = [...picked].map((productId) => ({ productId, quantity: 1 + Math.floor(random() * 3) }));
    const input = { idempotencyKey: `bench-${runId}-${i}`, items, shippingAddress: address, paymentToken: 'tok_visa' };
    plan[i] = {
      scheduled: (i * 1000) / o.rate,
      measured: i >= warmupCount,
      customer: Math.floor(random() * o.customers),
      body: JSON.stringify({ query: PLACE_ORDER, variables: { input } }),
    };
  }
  return plan;
}

interface Result {
  /** ms from scheduled start to the full response (or the failure) */
  latency: number;
  /** ms the launch came after its scheduled time (load generator / event loop lag) */
  launchLag: number;
  /** launch and completion times, ms after the start of the run */
  launched: number;
  done: number;
  outcome: string;
  status: number | null;
}

async function fire(gateway: string, p: Planned, customers: string[], start: number, timeoutMs: number): Promise<Result> {
  const launched = performance.now() - start;
  let outcome: string;
  let status: number | null = null;
  try {
    const res = await fetch(`${gateway}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${customers[p.customer]}` },
      body: p.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    status = res.status;
    const text = await res.text();
    let body: GraphQLBody | null = null;
    try {
      body = JSON.parse(text) as GraphQLBody;
    } catch {
      /* not JSON */
    }
    const typename = body?.data?.placeOrder?.__typename as string | undefined;
    if (typename) outcome = typename;
    else if (body?.errors?.length) outcome = `error:${body.errors[0].extensions?.code ?? 'UNKNOWN'}`;
    else outcome = `http:${res.status}`;
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') outcome = 'timeout';
    else outcome = `network:${e.cause?.code ?? e.message}`;
  }
  const done = performance.now() - start;
  return { latency: done - p.scheduled, launchLag: launched - p.scheduled, launched, done, outcome, status };
}

/** Launches every planned request at its time; resolves when all have finished. */
function run(gateway: string, plan: Planned[], customers: string[], timeoutMs: number, onProgress: (launched: number, finished: number, elapsedMs: number) => void) {
  return new Promise<{ start: number; results: Result[] }>((resolveRun) => {
    const results: Result[] = new Array(plan.length);
    let next = 0;
    let finished = 0;
    const start = performance.now();
    let lastProgress = 0;
    const tick = () => {
      const now = performance.now() - start;
      while (next < plan.length && plan[next].scheduled <= now) {
        const i = next++;
        fire(gateway, plan[i], customers, start, timeoutMs).then((r) => {
          results[i] = r;
          if (++finished === plan.length) {
            onProgress(next, finished, performance.now() - start);
            resolveRun({ start, results });
          }
        });
      }
      if (now - lastProgress >= 5_000) {
        lastProgress = now;
        onProgress(next, finished, now);
      }
      if (next < plan.length) setTimeout(tick, Math.max(0, plan[next].scheduled - (performance.now() - start)));
    };
    tick();
  });
}

// ---------------------------------------------------------------- stats

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}

function summarize(values: number[]) {
  const s = Float64Array.from(values).sort();
  const arr = Array.from(s);
  const r = (x: number) => Math.round(x * 10) / 10;
  return {
    count: arr.length,
    p50: r(percentile(arr, 50)),
    p90: r(percentile(arr, 90)),
    p95: r(percentile(arr, 95)),
    p99: r(percentile(arr, 99)),
    p999: r(percentile(arr, 99.9)),
    max: r(arr.at(-1) ?? NaN),
    mean: r(arr.reduce((a, b) => a + b, 0) / (arr.length || 1)),
  };
}

function cpuTimes() {
  return os.cpus().map((c) => ({ busy: c.times.user + c.times.nice + c.times.sys + c.times.irq, total: c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle }));
}

// ---------------------------------------------------------------- main

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const runId = randomBytes(3).toString('hex');
  const random = prng(o.seed);
  const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
  const machine = {
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };

  let infra: Infra | null = null;
  let stack: Stack | null = null;
  let interrupted = false;
  const cleanup = async () => {
    if (stack) {
      log('stopping gateway and services…');
      // A service stops only once its in-flight requests are done, and after an
      // overload the servers still work through requests the client abandoned
      // (timed out). Wait a bounded time, then stop PostgreSQL under them.
      const stopped = stack.stop((name, ms) => log(`  ${name} stopped after ${Math.round(ms)} ms`)).then(
        () => true,
        (err) => (log(`stopping services failed: ${(err as Error).message}`), true),
      );
      let grace: NodeJS.Timeout | undefined;
      const inTime = await Promise.race([stopped, new Promise<false>((r) => (grace = setTimeout(() => r(false), STOP_GRACE_MS)))]);
      clearTimeout(grace);
      if (!inTime) log(`services still busy with abandoned requests after ${STOP_GRACE_MS / 1000} s: stopping PostgreSQL and NATS under them (errors from them now are expected)`);
      stack = null;
    }
    if (infra) {
      log('stopping PostgreSQL and nats-server…');
      await infra.stop().catch((err) => log(`stopping PostgreSQL/NATS failed: ${(err as Error).message}`));
      infra = null;
    }
  };
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log('interrupted: cleaning up (Ctrl-C again to force)');
    cleanup().finally(() => process.exit(130));
  });

  try {
    let gateway: string;
    if (o.gateway) {
      gateway = o.gateway;
      log(`target: running gateway ${gateway}`);
    } else {
      const t = performance.now();
      infra = await startInfra({ ephemeral: o.ephemeral });
      log(`PostgreSQL on port ${infra.pgPort} (${o.ephemeral ? 'ephemeral: fsync off' : 'durable'}), nats-server at ${infra.natsUrl}, data in ${infra.root}`);
      stack = await startStack({ pgPort: infra.pgPort, natsUrl: infra.natsUrl, logLevel: 'warn', env: o.env });
      gateway = stack.gatewayUrl;
      log(`in-process stack up at ${gateway} in ${Math.round(performance.now() - t)} ms`);
    }

    let t = performance.now();
    const operator = { authorization: `Bearer ${await clientToken(gateway, 'ops-console', o.opsSecret, 'products:write')}` };
    const productIds = await seedProducts(gateway, operator, o.products, runId, random);
    log(`created ${productIds.length} products in ${Math.round(performance.now() - t)} ms`);
    t = performance.now();
    const customers = await signUpCustomers(gateway, o.customers, runId);
    log(`signed up ${customers.length} customers in ${Math.round(performance.now() - t)} ms`);
    const plan = planRequests(o, productIds, runId, random);
    log(`running ${plan.length} placeOrder requests at ${o.rate}/s: ${o.warmup} s warm-up + ${o.duration} s measured`);

    // CPU and event-loop sampling over the measured window.
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    const pids = infra?.pids ?? { postgres: null, nats: null };
    const sample = () => ({
      wall: performance.now(),
      cpus: cpuTimes(),
      self: process.cpuUsage(),
      postgres: processTreeCpuSeconds(pids.postgres),
      nats: processTreeCpuSeconds(pids.nats),
    });
    let before: ReturnType<typeof sample> | null = null;
    let after: ReturnType<typeof sample> | null = null;
    const warmupMs = o.warmup * 1000;
    const windowTimer = setTimeout(() => {
      before = sample();
      loopDelay.enable();
    }, warmupMs);
    const windowEndTimer = setTimeout(() => {
      after = sample();
      loopDelay.disable();
    }, warmupMs + o.duration * 1000);

    const { results } = await run(gateway, plan, customers, o.timeout * 1000, (launched, finished, elapsed) =>
      log(`t=${(elapsed / 1000).toFixed(1)}s launched=${launched} finished=${finished} in-flight=${launched - finished}`),
    );
    clearTimeout(windowTimer);
    clearTimeout(windowEndTimer);
    before ??= sample();
    after ??= sample();
    loopDelay.disable();

    // ---- stats over the measured window (requests *scheduled* in it)
    const measured = results.filter((_, i) => plan[i].measured);
    const firstScheduled = plan.find((p) => p.measured)!.scheduled;
    const lastScheduled = plan.at(-1)!.scheduled;
    const max = (xs: number[]) => xs.reduce((a, b) => Math.max(a, b), -Infinity);
    const min = (xs: number[]) => xs.reduce((a, b) => Math.min(a, b), Infinity);
    const launchSpan = max(measured.map((r) => r.launched)) - min(measured.map((r) => r.launched));
    const achievedRate = measured.length > 1 ? ((measured.length - 1) * 1000) / launchSpan : NaN;
    const windowStart = warmupMs;
    const windowEnd = warmupMs + o.duration * 1000;
    const placedInWindow = results.filter((r) => r.outcome === 'OrderPlaced' && r.done >= windowStart && r.done < windowEnd).length;
    // HTTP responses of any kind (not timeouts or connection errors) that arrived in the window.
    const finishedInWindow = results.filter((r) => r.status !== null && r.done >= windowStart && r.done < windowEnd).length;
    const outcomes: Record<string, number> = {};
    const httpStatus: Record<string, number> = {};
    for (const r of measured) {
      outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
      const k = r.status === null ? 'none' : String(r.status);
      httpStatus[k] = (httpStatus[k] ?? 0) + 1;
    }
    const b = before as ReturnType<typeof sample>;
    const a = after as ReturnType<typeof sample>;
    const windowS = (a.wall - b.wall) / 1000;
    const cpuBusy = a.cpus.map((c, i) => (c.total - b.cpus[i].total > 0 ? (c.busy - b.cpus[i].busy) / (c.total - b.cpus[i].total) : 0));
    const cores = (x: number | null) => (x === null || !(windowS > 0) ? null : Math.round((x / windowS) * 100) / 100);
    const selfCores = cores((a.self.user + a.self.system - b.self.user - b.self.system) / 1e6);
    const pgCores = a.postgres !== null && b.postgres !== null ? cores(a.postgres - b.postgres) : null;
    const natsCores = a.nats !== null && b.nats !== null ? cores(a.nats - b.nats) : null;
    const busyCores = Math.round(cpuBusy.reduce((x, y) => x + y, 0) * 100) / 100;
    const otherCores = Math.round((busyCores - (selfCores ?? 0) - (pgCores ?? 0) - (natsCores ?? 0)) * 100) / 100;
    const ownCores = (selfCores ?? 0) + (pgCores ?? 0) + (natsCores ?? 0);
    const cpuMsPerResponse = finishedInWindow ? Math.round(((ownCores * o.duration * 1000) / finishedInWindow) * 10) / 10 : null;
    const ns = (x: number) => Math.round(x / 1e4) / 100;

    const summary = {
      benchmark: 'orders.placeOrder',
      timestamp: new Date().toISOString(),
      machine,
      config: {
        target: o.gateway ? 'external' : 'in-process',
        gateway,
        postgres: o.gateway ? 'external' : o.ephemeral ? 'ephemeral (fsync off)' : 'durable',
        rate: o.rate,
        durationS: o.duration,
        warmupS: o.warmup,
        timeoutS: o.timeout,
        products: o.products,
        customers: o.customers,
        linesPerOrder: '1-5',
        quantityPerLine: '1-3',
        seed: o.seed,
        env: o.env,
      },
      results: {
        requests: measured.length,
        targetRate: o.rate,
        achievedArrivalRate: Math.round(achievedRate * 10) / 10,
        completedOrdersPerSec: Math.round((placedInWindow / o.duration) * 10) / 10,
        responsesPerSec: Math.round((finishedInWindow / o.duration) * 10) / 10,
        outcomes,
        httpStatus,
        latencyMs: summarize(measured.map((r) => r.latency)),
        latencyOrderPlacedMs: summarize(measured.filter((r) => r.outcome === 'OrderPlaced').map((r) => r.latency)),
        launchLagMs: summarize(measured.map((r) => r.launchLag)),
        eventLoopDelayMs: { p50: ns(loopDelay.percentile(50)), p99: ns(loopDelay.percentile(99)), max: ns(loopDelay.max) },
        cpu: {
          busyPctPerCore: cpuBusy.map((x) => Math.round(x * 1000) / 10),
          busyCores,
          benchProcessCores: selfCores,
          postgresCores: pgCores,
          natsCores,
          otherProcessesCores: otherCores,
          msPerResponse: cpuMsPerResponse,
        },
        drainAfterLastArrivalMs: Math.round(max(results.map((r) => r.done)) - lastScheduled),
        measuredWindowScheduledMs: [Math.round(firstScheduled), Math.round(lastScheduled)],
      },
    };

    const L = summary.results.latencyMs;
    const ok = summary.results.latencyOrderPlacedMs;
    const pad = (s: string) => s.padEnd(27);
    const lines = [
      '',
      'placeOrder benchmark (open model, fixed arrival rate; latency from scheduled start)',
      `${pad('machine')}${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, node ${machine.node}, ${machine.platform}, load average ${machine.loadAverageAtStart.join(' ')}`,
      `${pad('target')}${summary.config.target} ${gateway}${o.gateway ? '' : `, PostgreSQL ${summary.config.postgres}`}`,
      `${pad('config')}rate ${o.rate}/s, ${o.duration} s measured + ${o.warmup} s warm-up, timeout ${o.timeout} s, ${o.products} products, ${o.customers} customers, 1-5 lines x 1-3 units${Object.keys(o.env).length ? `, env ${JSON.stringify(o.env)}` : ''}`,
      `${pad('requests measured')}${measured.length}`,
      `${pad('achieved arrival rate')}${summary.results.achievedArrivalRate}/s (target ${o.rate}/s)`,
      `${pad('completed orders/s')}${summary.results.completedOrdersPerSec} (HTTP responses of any kind ${summary.results.responsesPerSec}/s)`,
      `${pad('latency (all) ms')}p50 ${L.p50}  p90 ${L.p90}  p95 ${L.p95}  p99 ${L.p99}  p99.9 ${L.p999}  max ${L.max}  mean ${L.mean}`,
      `${pad('latency (OrderPlaced) ms')}p50 ${ok.p50}  p95 ${ok.p95}  p99 ${ok.p99}  max ${ok.max}  (n=${ok.count})`,
      `${pad('outcomes')}${Object.entries(outcomes).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}=${v}`).join('  ')}`,
      `${pad('HTTP status')}${Object.entries(httpStatus).map(([k, v]) => `${k}=${v}`).join('  ')}`,
      `${pad('launch lag ms')}p50 ${summary.results.launchLagMs.p50}  p99 ${summary.results.launchLagMs.p99}  max ${summary.results.launchLagMs.max}`,
      `${pad('event loop delay ms')}p50 ${summary.results.eventLoopDelayMs.p50}  p99 ${summary.results.eventLoopDelayMs.p99}  max ${summary.results.eventLoopDelayMs.max}${o.gateway ? '' : '  (shared with the in-process system)'}`,
      `${pad('CPU (cores busy)')}machine ${busyCores} of ${machine.cores} (${cpuBusy.map((x) => `${Math.round(x * 100)}%`).join(' ')}): this process ${selfCores}${o.gateway ? '' : ' (load generator + gateway + 4 subgraphs)'}` +
        `${pgCores !== null ? `, postgres ${pgCores}` : ''}${natsCores !== null ? `, nats ${natsCores}` : ''}, other processes ${otherCores}`,
      ...(o.gateway ? [] : [`${pad('CPU per HTTP response')}${cpuMsPerResponse} ms (this process + postgres + nats)`]),
      `${pad('drain after last arrival')}${summary.results.drainAfterLastArrivalMs} ms`,
    ];

    await cleanup();
    mkdirSync(dirname(o.out), { recursive: true });
    writeFileSync(o.out, `${JSON.stringify(summary, null, 2)}\n`);
    process.stdout.write(`${lines.join('\n')}\n${pad('written')}${o.out}\n\n${JSON.stringify(summary)}\n`);
    return 0;
  } catch (err) {
    log(`failed: ${(err as Error).stack ?? String(err)}`);
    await cleanup();
    return 1;
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
