import { sqlPool } from '@orderflow/common/db';
import type { Logger } from '@orderflow/common/observability';
import type { Viewer } from '@orderflow/common/server';
import type { Db, Order } from '../db.ts';
import {
  deadLetterEntry,
  emailEntry,
  mergeTimeline,
  operatorEntry,
  paymentEntries,
  statusEntry,
  type SourcedEntry,
  type TimelineEntry,
} from '../domain/timeline.ts';
import type { DeadLetters } from '../events/dead-letters.ts';

/** What the products and shipments subgraphs contributed (Order.stockTimeline, Order.shipmentTimeline via @requires). */
export interface TimelineContributions {
  stockTimeline?: readonly TimelineEntry[] | null;
  shipmentTimeline?: readonly TimelineEntry[] | null;
}

/**
 * Order.timeline: the orders service's own records of the order (status history, payment, emails,
 * operator actions; for staff its dead letters) merged with the entries the gateway fetched from
 * products and shipments. Reached only through an order the viewer may see.
 */
export function createOrderTimeline({
  db,
  deadLetters,
  log,
}: {
  db: Db;
  deadLetters: DeadLetters | null;
  log: Logger;
}) {
  const sql = sqlPool(db);

  async function letters(orderId: string): Promise<SourcedEntry[]> {
    if (!deadLetters) return [];
    try {
      return (await deadLetters.forOrder(orderId)).map(deadLetterEntry);
    } catch (err) {
      // The rest of the timeline is still worth showing with NATS unreachable.
      log.warn({ orderId, err: (err as Error).message }, 'dead letters unavailable for the timeline');
      return [];
    }
  }

  return async function timeline(
    viewer: Viewer,
    order: Order,
    { stockTimeline, shipmentTimeline }: TimelineContributions,
  ): Promise<TimelineEntry[]> {
    const staff = viewer.scopes.has('orders:read:all');
    const [history, payments, emails, actions, dead] = await Promise.all([
      sql.query<{ previous_status: string | null; status: string; reason: string | null; occurred_at: Date }>(
        `SELECT previous_status, status, reason, occurred_at FROM order_status_history WHERE order_id = $1::uuid ORDER BY id`,
        [order.id],
      ),
      sql.query<{
        status: 'SUCCEEDED' | 'FAILED' | 'REFUNDED';
        amount_cents: number;
        currency_code: string;
        reason: string | null;
        attempts: number;
        created_at: Date;
        updated_at: Date;
      }>(
        `SELECT status, amount_cents, currency_code, reason, attempts, created_at, updated_at FROM payments WHERE order_id = $1::uuid`,
        [order.id],
      ),
      sql.query<{
        kind: string;
        recipient: string;
        status: 'PENDING' | 'SENT' | 'FAILED' | 'UNKNOWN';
        attempts: number;
        last_error: string | null;
        created_at: Date;
        updated_at: Date;
      }>(
        `SELECT kind, recipient, status, attempts, last_error, created_at, updated_at FROM notifications WHERE order_id = $1::uuid`,
        [order.id],
      ),
      sql.query<{ actor: string; summary: string; internal: boolean; occurred_at: Date }>(
        `SELECT actor, summary, internal, occurred_at FROM operator_actions WHERE order_id = $1::uuid ORDER BY id`,
        [order.id],
      ),
      staff ? letters(order.id) : Promise.resolve([]),
    ]);
    return mergeTimeline(
      [
        history.rows.map((h) =>
          statusEntry({
            previousStatus: h.previous_status,
            status: h.status,
            reason: h.reason,
            occurredAt: h.occurred_at,
          }),
        ),
        payments.rows.flatMap((p) =>
          paymentEntries({
            status: p.status,
            amountCents: p.amount_cents,
            currencyCode: p.currency_code,
            reason: p.reason,
            attempts: p.attempts,
            createdAt: p.created_at,
            updatedAt: p.updated_at,
          }),
        ),
        emails.rows.map((e) =>
          emailEntry({
            kind: e.kind,
            recipient: e.recipient,
            status: e.status,
            attempts: e.attempts,
            lastError: e.last_error,
            createdAt: e.created_at,
            updatedAt: e.updated_at,
          }),
        ),
        actions.rows.map((a) =>
          operatorEntry({ actor: a.actor, summary: a.summary, internal: a.internal, occurredAt: a.occurred_at }),
        ),
        dead,
        [...(stockTimeline ?? []), ...(shipmentTimeline ?? [])],
      ],
      { staff },
    );
  };
}
