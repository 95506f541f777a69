import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AckPolicy, connect, headers as natsHeaders, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPermissionError, revokedTokenKey } from '@orderflow/common/messaging';
import {
  NATS_ACCESS,
  NATS_USERS,
  natsDurables,
  natsInboxPrefix,
  type NatsUser,
} from '@orderflow/contracts/nats-access';
import { ORDER_SAGA } from '../subgraphs/orders/src/saga/order-saga.ts';
import { startSystem, type System } from './support/system.ts';
import { USERS_CONF, composeUsersConf } from '../scripts/nats-users.ts';

/** What a refused NATS call looks like: a permissions violation, answered at once (no timeout). */
async function expectRefused(call: Promise<unknown>) {
  const err = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, 'NATS accepted the call').not.toBeNull();
  expect(isPermissionError(err), String(err)).toBe(true);
}

describe('NATS users: each service only its own subjects', () => {
  let system: System;
  const open: NatsConnection[] = [];
  /** A connection as one of the services (the credentials it was given, its replies on its own inbox). */
  const as = async (user: NatsUser) => {
    const nc = await connect({
      servers: system.natsUrl,
      user,
      pass: system.natsPasswords![user],
      inboxPrefix: natsInboxPrefix(user),
    });
    open.push(nc);
    return nc;
  };
  const subject = (type: string) => `${system.natsPrefix}.${type}`;
  const bucket = () => `${system.natsPrefix.toUpperCase()}_REVOCATIONS`;
  /**
   * Publishes `payments.succeeded` so that it can never be stored: the expected stream is wrong, so a
   * publish the server lets through is refused by JetStream instead ("expected stream does not match").
   */
  const probePaymentSucceeded = (nc: NatsConnection) =>
    nc.jetstream().publish(subject('payments.succeeded'), '{}', { expect: { streamName: 'NOT_THIS_STREAM' } });

  beforeAll(async () => {
    system = await startSystem();
  });
  afterAll(async () => {
    await Promise.all(open.map((nc) => nc.close()));
    await system?.stop();
  });

  it('refuses a client without credentials, or with a wrong password', async () => {
    for (const options of [{}, { user: 'orders', pass: 'guessed' }, { user: 'anyone', pass: 'x' }]) {
      const err = await connect({ servers: system.natsUrl, ...options }).then(
        async (nc) => (await nc.close(), null),
        (e: Error) => e,
      );
      expect(err?.message).toMatch(/authorization violation/i);
    }
  });

  it('lets only the orders service publish payments.succeeded', async () => {
    for (const user of ['shipments', 'products', 'gateway', 'auth'] as const)
      await expectRefused(probePaymentSucceeded(await as(user)));
    // The orders service's user gets past the server's permissions; JetStream then refuses the probe.
    const err = await probePaymentSucceeded(await as('orders')).then(
      () => null,
      (e: Error) => e,
    );
    expect(isPermissionError(err)).toBe(false);
    expect(err?.message).toMatch(/expected stream does not match/i);
  });

  it('lets only the auth service write or delete revocations; the gateway reads them', async () => {
    const jti = randomUUID();
    const entry = `$KV.${bucket()}.${revokedTokenKey(jti)}`;
    for (const user of ['shipments', 'orders', 'products', 'gateway'] as const) {
      const nc = await as(user);
      // A KV put is a publish to $KV.<bucket>.<key>; a delete the same with a KV-Operation header.
      const del = natsHeaders();
      del.set('KV-Operation', 'DEL');
      await expectRefused(nc.jetstream().publish(entry, '{"exp":0}'));
      await expectRefused(nc.jetstream().publish(entry, '', { headers: del }));
      const jsm = await nc.jetstreamManager();
      await expectRefused(jsm.streams.purge(`KV_${bucket()}`));
      await expectRefused(jsm.streams.deleteMessage(`KV_${bucket()}`, 1));
    }
    // The gateway may open the bucket (it watches it), not change it.
    const readOnly = await (await as('gateway')).jetstream().views.kv(bucket());
    await expectRefused(readOnly.put(revokedTokenKey(jti), '{"exp":0}'));
    await expectRefused(readOnly.delete(revokedTokenKey(jti)));
    const authKv = await (await as('auth')).jetstream().views.kv(bucket());
    await authKv.put(revokedTokenKey(jti), JSON.stringify({ exp: Math.ceil(Date.now() / 1000) + 60 }));
    const gatewayKv = await (await as('gateway')).jetstream().views.kv(bucket());
    expect((await gatewayKv.get(revokedTokenKey(jti)))?.json()).toHaveProperty('exp');
  });

  it('lets only the gateways keep the shared rate limits (compare-and-set), and no one else touch them', async () => {
    const rateLimits = `${system.natsPrefix.toUpperCase()}_RATE_LIMITS`;
    // The running gateway made the bucket; another gateway instance reads and writes it with compare-and-set.
    const kv = await (await as('gateway')).jetstream().views.kv(rateLimits);
    const revision = await kv.create('probe-key', '1');
    expect(await kv.update('probe-key', '2', revision)).toBeGreaterThan(revision);
    await expect(kv.update('probe-key', '3', revision)).rejects.toThrow(/wrong last sequence/);
    for (const user of ['auth', 'orders', 'products', 'shipments'] as const)
      await expectRefused((await as(user)).jetstream().publish(`$KV.${rateLimits}.probe-key`, '0'));
  });

  it("keeps the gateway out of the saga's messages: no payment tokens, no other service's consumers", async () => {
    const jsm = await (await as('gateway')).jetstreamManager();
    const orders = `${system.natsPrefix.toUpperCase()}_ORDERS`;
    const consumer = (name: string, type: string) => ({
      name,
      filter_subject: subject(type),
      ack_policy: AckPolicy.None,
      inactive_threshold: 60_000_000_000,
    });
    // orders.created carries the payment token: the gateway follows orders.status_changed only.
    await expectRefused(jsm.consumers.add(orders, consumer('peek', 'orders.created')));
    await expectRefused(jsm.consumers.add(orders, consumer('peek', 'payments.succeeded')));
    // Pulling from (or deleting) a service's durable would take its messages.
    await expectRefused(jsm.consumers.info(orders, 'orders-payments'));
    await expectRefused(jsm.consumers.delete(orders, 'products-commit-reservation'));
    await expectRefused(jsm.consumers.add(orders, { ...consumer('orders-payments', 'orders.created') }));
    // What it needs works: a consumer of its own on orders.status_changed.
    expect(await jsm.consumers.add(orders, consumer('own', 'orders.status_changed'))).toHaveProperty('config');
    await jsm.consumers.delete(orders, 'own');
  });

  it('no service may update a stream another service writes, nor read another service’s replies', async () => {
    const jsm = await (await as('shipments')).jetstreamManager();
    const orders = `${system.natsPrefix.toUpperCase()}_ORDERS`;
    const { config } = await jsm.streams.info(orders);
    await expectRefused(jsm.streams.update(orders, { ...config, max_msgs: 1 }));
    await expectRefused(jsm.streams.purge(orders));
    // Replies (PubAcks, pulled messages) go to _INBOX_<user>.…: shipments cannot listen to orders' replies.
    const shipments = await as('shipments');
    const sub = shipments.subscribe('_INBOX_orders.>');
    const ended = await (async () => {
      for await (const m of sub) void m;
    })().then(
      () => null,
      (e: Error) => e,
    );
    expect(isPermissionError(ended)).toBe(true);
  });
});

describe('the NATS access table', () => {
  it("matches the saga's declaration: each service consumes its handlers' events and publishes what they emit", () => {
    const declaredDurables = ORDER_SAGA.filter((s) => s.handler && 'event' in s.starts)
      .map((s) => `${s.owner}-${s.handler}`)
      .sort();
    expect(
      natsDurables()
        .map((d) => d.durable)
        .sort(),
    ).toEqual(declaredDurables);
    for (const step of ORDER_SAGA)
      for (const type of step.emits)
        expect(NATS_ACCESS[step.owner].publishes, `${step.owner} emits ${type}`).toContain(type);
    // And nothing more: every published type is emitted by some step of its service.
    for (const user of NATS_USERS)
      for (const type of NATS_ACCESS[user].publishes)
        expect(
          ORDER_SAGA.some((s) => s.owner === user && s.emits.includes(type)),
          `${user} publishes ${type}`,
        ).toBe(true);
  });

  it('is what compose runs: ops/nats/users.conf is generated from it (npx tsx scripts/nats-users.ts)', () =>
    expect(readFileSync(USERS_CONF, 'utf8')).toBe(composeUsersConf()));
});
