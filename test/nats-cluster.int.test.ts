import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import { describe, expect, it } from 'vitest';
import { createNatsPasswords, startNatsCluster } from '@orderflow/devstack';
import {
  PLACE_ORDER,
  buildOrderInput,
  createProduct,
  eventually,
  inventoryViolations,
  startSystem,
} from './support/system.ts';

/** The saga's streams and the revocation bucket, as they are named on the wire for a prefix (packages/common/src/nats.ts). */
function streamNames(prefix: string) {
  const p = prefix.toUpperCase().replace(/[^A-Z0-9_-]/g, '_');
  return [...['ORDERS', 'INVENTORY', 'SHIPMENTS', 'DLQ'].map((s) => `${p}_${s}`), `KV_${p}_REVOCATIONS`];
}

async function replicaHealth(jsm: JetStreamManager, stream: string) {
  const { config, cluster } = await jsm.streams.info(stream);
  return {
    replicas: config.num_replicas,
    leader: cluster?.leader,
    peers: (cluster?.replicas ?? []).map((r) => ({ name: r.name, current: r.current, offline: r.offline ?? false })),
  };
}

describe('the saga on a 3-node NATS cluster', () => {
  it('loses no event and completes every saga when the stream leader is killed under load', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orderflow-nats-cluster-'));
    // Every node with the services' users, as in production.
    const prefix = `t${randomBytes(4).toString('hex')}`;
    const passwords = createNatsPasswords();
    const cluster = await startNatsCluster({ dir, auth: { passwords, prefixes: [prefix] } });
    let nc: NatsConnection | null = null;
    const system = await startSystem({
      natsUrl: cluster.url,
      natsAuth: { passwords, prefix },
      env: { NATS_REPLICAS: '3', SAGA_RETRY_SCALE: '0.05' },
    }).catch(async (err) => {
      await cluster.stop();
      throw err;
    });
    try {
      nc = await connect({
        ...system.natsAdmin,
        servers: cluster.nodes.map((n) => n.url),
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
      });
      const jsm = await nc.jetstreamManager();
      const [orders, inventory, shipments, dlq, revocations] = streamNames(system.natsPrefix);
      // Every stream of the saga, the dead letters and the revocation bucket are R3, each replica current.
      for (const stream of [orders, inventory, shipments, dlq, revocations]) {
        const health = await replicaHealth(jsm, stream);
        expect(health.replicas, stream).toBe(3);
        expect(health.peers, stream).toHaveLength(2);
      }

      const products = await Promise.all(Array.from({ length: 5 }, () => createProduct(system, { initialStock: 100 })));
      const customers = await system.signUpCustomers(6, 'cluster');

      // A steady load: an order every 100 ms for 6 s; the ORDERS leader is killed (-9) after 2.5 s.
      const leaderName = (await replicaHealth(jsm, orders)).leader;
      const leader = cluster.nodes.find((n) => n.name === leaderName);
      expect(leader, `leader ${leaderName}`).toBeDefined();
      const placements: Promise<{ id: string; quantity: number; productId: string } | { failed: string }>[] = [];
      const started = Date.now();
      let killedAt = 0;
      for (let i = 0; i < 60; i++) {
        if (i === 25) {
          killedAt = Date.now() - started;
          await leader!.kill();
        }
        const product = products[i % products.length];
        const quantity = 1 + (i % 3);
        placements.push(
          system
            .graphql(
              PLACE_ORDER,
              { input: buildOrderInput({ items: [{ productId: product.id, quantity }] }) },
              customers[i % customers.length].headers,
            )
            .then((r) =>
              r.data?.placeOrder.__typename === 'OrderPlaced'
                ? { id: r.data.placeOrder.order.id as string, quantity, productId: product.id }
                : { failed: JSON.stringify(r) },
            ),
        );
        await new Promise((r) => setTimeout(r, 100));
      }
      const results = await Promise.all(placements);
      // Placing an order needs PostgreSQL and the products service, not NATS: every one is accepted.
      expect(results.filter((r) => 'failed' in r)).toEqual([]);
      const placed = results as { id: string; quantity: number; productId: string }[];
      const ids = placed.map((o) => o.id);
      expect(new Set(ids).size).toBe(60);
      expect(killedAt).toBeGreaterThan(2_000);

      // A new leader took over from the two survivors.
      const during = await eventually(async () => {
        const h = await replicaHealth(jsm, orders);
        return h.leader && h.leader !== leaderName ? h : null;
      });
      expect(during.peers.find((p) => p.name === leaderName)?.current ?? false).toBe(false);

      // Every saga completes: paid, committed, shipped out of the warehouse (a shipment each).
      await eventually(
        async () =>
          (await system.orders.db.order.count({ where: { id: { in: ids }, status: 'PENDING_SHIPMENT' } })) ===
          ids.length,
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      await eventually(
        async () => (await system.shipments.db.shipment.count({ where: { orderId: { in: ids } } })) === ids.length,
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      // One payment per order, no more.
      const payments = await system.orders.db.payment.groupBy({
        by: ['orderId'],
        where: { orderId: { in: ids } },
        _count: true,
      });
      expect(payments).toHaveLength(ids.length);
      expect(payments.every((p) => p._count === 1)).toBe(true);
      // Stock: every unit sold exactly once, nothing left reserved.
      await eventually(
        async () =>
          (await system.products.db.reservation.count({ where: { orderId: { in: ids }, status: 'ACTIVE' } })) === 0,
      );
      expect(await inventoryViolations(system)).toEqual([]);
      for (const p of products) {
        const sold = placed.filter((o) => o.productId === p.id).reduce((n, o) => n + o.quantity, 0);
        const row = await system.products.db.product.findUniqueOrThrow({ where: { id: p.id } });
        expect({ sold: row.sold, reserved: row.reserved, available: row.available }).toEqual({
          sold,
          reserved: 0,
          available: 100 - sold,
        });
      }
      // No event lost: every outbox row was published (PubAck'd by the cluster)…
      await eventually(async () => {
        const unpublished = await Promise.all(
          [system.orders.db, system.products.db, system.shipments.db].map((db) =>
            (db as typeof system.orders.db).outboxEvent.count({ where: { publishedAt: null } }),
          ),
        );
        return unpublished.every((n) => n === 0);
      });
      // …and stored once: one orders.created per order in the replicated stream, nothing dead-lettered.
      const created = await jsm.streams.info(orders, { subjects_filter: `${system.natsPrefix}.orders.created` });
      expect(created.state.subjects?.[`${system.natsPrefix}.orders.created`]).toBe(ids.length);
      expect((await jsm.streams.info(dlq)).state.messages).toBe(0);

      // The node comes back: it rejoins, catches up, and the cluster is whole again.
      await leader!.start();
      await cluster.waitHealthy();
      await eventually(async () => Object.values(await cluster.routes()).every((n) => n === 2));
      for (const stream of [orders, inventory, shipments, dlq, revocations]) {
        await eventually(
          async () => {
            const h = await replicaHealth(jsm, stream);
            return h.leader && h.peers.length === 2 && h.peers.every((p) => p.current && !p.offline);
          },
          { timeoutMs: 30_000, intervalMs: 250 },
        );
      }
      // And it serves: an order placed now completes too.
      const after = await system.graphql(
        PLACE_ORDER,
        { input: buildOrderInput({ items: [{ productId: products[0].id, quantity: 1 }] }) },
        customers[0].headers,
      );
      const afterId = after.data.placeOrder.order.id as string;
      await eventually(
        async () => (await system.orders.db.order.count({ where: { id: afterId, status: 'PENDING_SHIPMENT' } })) === 1,
        { timeoutMs: 30_000 },
      );
    } finally {
      await system.stop();
      await nc?.close();
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
