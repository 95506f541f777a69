import { sqlPool } from '@orderflow/common/db';
import type { Bus } from '@orderflow/common/messaging';
import { createSampler } from '@orderflow/common/observability';
import { badInput } from '@orderflow/common/server';
import { money } from '@orderflow/contracts';
import { natsDurables } from '@orderflow/contracts/nats-access';
import type { Db } from '../db.ts';
import { summarize, type MinuteRollup } from '../domain/business-metrics.ts';

/** Longest window businessMetrics answers for: a day of minutes. */
export const MAX_METRICS_WINDOW_MINUTES = 1_440;

/** Rollup rows older than this are deleted (at most once an hour per process): twice the longest window. */
const KEEP_ROLLUPS = '2 days';

/**
 * Query.businessMetrics: the shop's figures over the last minutes, from the per-minute rollups the
 * orders table's triggers keep (at most 16 rows a minute, read by primary key range: never a scan of
 * orders), and every saga consumer's backlog from JetStream (num_pending), read at most once a second
 * however many consoles poll. orders:read:all is @requiresScopes on the field.
 */
export function createBusinessMetrics({ db, bus }: { db: Db; bus: Bus | null }) {
  const sql = sqlPool(db);
  let prunedAt = 0;

  const backlog = createSampler(async () => {
    if (!bus) return [];
    const jsm = await bus.nc.jetstreamManager({ checkAPI: false });
    return Promise.all(
      natsDurables().map(async (d) => {
        try {
          const info = await jsm.consumers.info(bus.stream(d.stream), d.durable);
          return { consumer: d.durable, pending: info.num_pending };
        } catch {
          // Not created yet (its service has not started): nothing waits for it that it would not find.
          return { consumer: d.durable, pending: 0 };
        }
      }),
    );
  });

  async function prune() {
    if (Date.now() - prunedAt < 3_600_000) return;
    prunedAt = Date.now();
    // Housekeeping only: a failure is tried again in an hour and never fails the request.
    await sql
      .query(`DELETE FROM order_metrics_minute WHERE minute < now() - interval '${KEEP_ROLLUPS}'`)
      .catch(() => {});
  }

  return async function businessMetrics({ windowMinutes }: { windowMinutes: number }) {
    if (!Number.isInteger(windowMinutes) || windowMinutes < 1 || windowMinutes > MAX_METRICS_WINDOW_MINUTES)
      throw badInput(`windowMinutes must be an integer from 1 to ${MAX_METRICS_WINDOW_MINUTES}`, 'windowMinutes');
    const [{ rows }, consumers] = await Promise.all([
      sql.query<{
        minute: Date;
        placed: number;
        placed_total_cents: string;
        paid: number;
        payment_failed: number;
        to_shipment_ms: number[];
        bounds: number[];
        now: Date;
      }>(
        `SELECT m.minute, m.placed, m.placed_total_cents, m.paid, m.payment_failed, m.to_shipment_ms,
                order_metrics_latency_bounds() AS bounds, now() AS now
           FROM (SELECT now()) t LEFT JOIN order_metrics_minute m
             ON m.minute >= date_trunc('minute', now()) - make_interval(mins => $1::int - 1)`,
        [windowMinutes],
      ),
      backlog(),
      prune(),
    ]);
    const rollups: MinuteRollup[] = rows
      .filter((r) => r.minute)
      .map((r) => ({
        minute: r.minute,
        placed: r.placed,
        placedTotalCents: Number(r.placed_total_cents),
        paid: r.paid,
        paymentFailed: r.payment_failed,
        toShipmentMs: r.to_shipment_ms,
      }));
    const figures = summarize(rollups, rows[0].bounds, windowMinutes, rows[0].now);
    return {
      windowMinutes,
      ordersPerMinute: figures.ordersPerMinute,
      successRate: figures.successRate,
      // Every order is in USD (the catalog's only currency).
      averageOrderValue: figures.averageOrderCents === null ? null : money(figures.averageOrderCents, 'USD'),
      p95ToPendingShipmentMs: figures.p95ToPendingShipmentMs,
      backlog: consumers ?? [],
    };
  };
}
