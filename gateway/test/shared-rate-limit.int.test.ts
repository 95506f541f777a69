import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectBus, type Bus } from '@orderflow/common/messaging';
import { createLogger } from '@orderflow/common/observability';
import { freePort, startNats } from '@orderflow/devstack';
import { createRateLimiter } from '../src/rate-limit.ts';
import { createSharedRateLimiter, openRateLimitBucket, type SharedRateLimiter } from '../src/shared-rate-limit.ts';
import { connect } from 'nats';
import { claimNatsPrefix, natsAdminOptions, natsServiceEnv, runNatsPasswords } from '../../test/support/nats-auth.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A logger whose JSON lines are kept, to count what it said. */
function capturedLog() {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: createLogger('gateway', 'debug', stream), lines };
}

/** One gateway instance's shared limiter, on its own NATS connection as the gateway's user. */
async function instance(url: string, prefix: string, auth: boolean, log = capturedLog().log) {
  const creds: { NATS_USER?: string; NATS_PASSWORD?: string } = auth
    ? natsServiceEnv(runNatsPasswords(), 'gateway')
    : {};
  const bus = await connectBus({
    url,
    prefix,
    name: 'gateway',
    log,
    streams: [],
    user: creds.NATS_USER,
    password: creds.NATS_PASSWORD,
  });
  const limiter = createSharedRateLimiter({
    openBucket: () => openRateLimitBucket(bus, { timeoutMs: 500 }),
    fallback: createRateLimiter(),
    log,
    probeIntervalMs: 200,
  });
  return { bus, limiter };
}

describe('rate limits shared by gateway instances (NATS KV, compare-and-set)', () => {
  let a: { bus: Bus; limiter: SharedRateLimiter };
  let b: { bus: Bus; limiter: SharedRateLimiter };

  beforeAll(async () => {
    // The run's nats-server, with its users: the gateway's own NATS permissions must allow the bucket.
    const prefix = claimNatsPrefix();
    [a, b] = await Promise.all([instance(inject('natsUrl'), prefix, true), instance(inject('natsUrl'), prefix, true)]);
  });
  afterAll(async () => {
    await Promise.all([a?.bus.close(), b?.bus.close()]);
  });

  it('holds one key to its limit across two instances taking turns', async () => {
    const started = Date.now();
    const decisions = [];
    for (let i = 0; i < 120; i++) decisions.push(await (i % 2 ? b : a).limiter.take('ip:203.0.113.7', 60));
    const elapsedS = (Date.now() - started) / 1000;
    const allowed = decisions.filter((d) => d.allowed).length;
    const byB = decisions.filter((d, i) => i % 2 && d.allowed).length;
    console.log(`60/min over two instances: ${allowed} of 120 allowed in ${elapsedS.toFixed(2)} s (${byB} by B)`);
    // Per-instance buckets would allow 120. Shared: 60, plus the refill (1/s) and one lease per instance.
    expect(allowed).toBeGreaterThanOrEqual(59);
    expect(allowed).toBeLessThanOrEqual(60 + Math.ceil(elapsedS) + 2);
    expect(byB).toBeGreaterThan(0);
    const refused = decisions.find((d) => !d.allowed);
    expect(refused).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect([a.limiter.mode(), b.limiter.mode()]).toEqual(['shared', 'shared']);
  });

  it('counts a concurrent burst on both instances once', async () => {
    const started = Date.now();
    const decisions = await Promise.all(
      Array.from({ length: 100 }, (_, i) => (i % 2 ? b : a).limiter.take('client:delivery-partner', 30)),
    );
    const elapsedS = (Date.now() - started) / 1000;
    const allowed = decisions.filter((d) => d.allowed).length;
    console.log(`30/min, 100 at once over two instances: ${allowed} allowed in ${elapsedS.toFixed(2)} s`);
    expect(allowed).toBeGreaterThanOrEqual(29);
    expect(allowed).toBeLessThanOrEqual(30 + Math.ceil(elapsedS / 2) + 2);
  });

  it('keeps keys apart, and says nothing of the client in the store', async () => {
    expect((await a.limiter.take('ip:198.51.100.1', 1)).allowed).toBe(true);
    expect((await b.limiter.take('ip:198.51.100.1', 1)).allowed).toBe(false);
    expect((await b.limiter.take('ip:198.51.100.2', 1)).allowed).toBe(true);
    // Listing keys takes a consumer, which the gateway's user may not create: look as the operator.
    const admin = await connect(natsAdminOptions(inject('natsUrl')));
    const keys: string[] = [];
    try {
      const kv = await admin.jetstream().views.kv(a.bus.stream('RATE_LIMITS'), { bindOnly: true });
      for await (const k of await kv.keys()) keys.push(k);
    } finally {
      await admin.close();
    }
    expect(keys.length).toBeGreaterThanOrEqual(4);
    expect(keys.join(' ')).not.toMatch(/198\.51|203\.0|delivery/);
  });
});

describe('when the rate-limit store is unreachable', () => {
  it('falls back to per-instance limits at once, logs it once, and shares again when NATS is back', async () => {
    const store = mkdtempSync(join(tmpdir(), 'orderflow-rl-nats-'));
    const port = await freePort();
    let nats = await startNats({ storeDir: store, port });
    const { log, lines } = capturedLog();
    const gw = await instance(nats.url, 'rl', false, log);
    try {
      expect((await gw.limiter.take('ip:192.0.2.1', 5)).allowed).toBe(true);
      expect(gw.limiter.mode()).toBe('shared');

      await nats.stop();
      const started = Date.now();
      const decisions = [];
      for (let i = 0; i < 8; i++) decisions.push(await gw.limiter.take('ip:192.0.2.9', 5));
      const tookMs = Date.now() - started;
      console.log(`8 decisions with NATS down: ${tookMs} ms`);
      // The instance's own bucket: 5 a minute, then refused, as before shared limits.
      expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, true, true, false, false, false]);
      expect(gw.limiter.mode()).toBe('local');
      // Only the first request waited for the store (its 500 ms timeout), not every one.
      expect(tookMs).toBeLessThan(5_000);
      for (let i = 0; i < 20; i++) await gw.limiter.take(`ip:192.0.2.${i}`, 5);
      const warnings = lines.filter((l) => /rate-limit store unreachable/.test(l.msg));
      expect(warnings).toHaveLength(1);
      expect(warnings[0].level).toBe(40);

      nats = await startNats({ storeDir: store, port });
      const until = Date.now() + 20_000;
      while (gw.limiter.mode() !== 'shared' && Date.now() < until) {
        await gw.limiter.take('ip:192.0.2.200', 600);
        await sleep(100);
      }
      expect(gw.limiter.mode()).toBe('shared');
      expect(lines.filter((l) => /reachable again/.test(l.msg))).toHaveLength(1);
      expect((await gw.limiter.take('ip:192.0.2.1', 5)).allowed).toBe(true);
    } finally {
      await gw.bus.close();
      await nats.stop();
      rmSync(store, { recursive: true, force: true });
    }
  }, 60_000);
});
