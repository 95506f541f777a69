import type { Sql } from '@orderflow/common/db';
import type { SettlementRule } from '../domain/inventory.ts';

/**
 * The products service's statements on the saga's path, one named, typed function each (docs/data-access.md).
 * None decides anything or builds an event: the rules are in `domain/inventory.ts`.
 */

/** A reservation line as a settlement moved it. */
export interface SettledLine {
  productId: string;
  quantity: number;
}

/**
 * A settlement in one statement. `line` locks the order's reservation lines in the status `$2` with their
 * products, in product id order (as the reservation statement locks products: two settlements of
 * multi-line orders cannot deadlock), and reads the products' quantities as locked. The updates compute
 * every quantity from those locked values, never from `p`, the version in the statement's snapshot: a
 * reservation of the same product committed after the snapshot would otherwise have the CHECK constraints
 * tested on stale numbers (docs/decisions/006-reservation-computes-from-the-locked-row.md). A line that
 * another settlement moved on meanwhile fails the status re-check under the lock and is left out of every
 * step. $1 order id, $2 → $3 the status, $4-$6 the factors of available, reserved and sold, $7 the
 * movement type, $8 its sign, $9 the reason.
 */
const SETTLE_RESERVATION = `
WITH line AS (
  SELECT r.product_id AS id, r.quantity AS q, p.available, p.reserved, p.sold, p.stocked
    FROM reservations r JOIN products p ON p.id = r.product_id
   WHERE r.order_id = $1::uuid AND r.status = $2::reservation_status
   ORDER BY r.product_id FOR UPDATE OF p, r
), stock AS (
  UPDATE products p SET available = l.available + $4::int * l.q, reserved = l.reserved + $5::int * l.q,
                        sold = l.sold + $6::int * l.q, stocked = l.stocked, updated_at = now()
    FROM line l WHERE p.id = l.id
), status AS (
  UPDATE reservations r SET status = $3::reservation_status, updated_at = now()
    FROM line l WHERE r.order_id = $1::uuid AND r.product_id = l.id AND r.status = $2::reservation_status
), audit AS (
  INSERT INTO stock_movements (product_id, type, quantity, order_id, reason)
  SELECT l.id, $7::stock_movement_type, $8::int * l.q, $1::uuid, $9::text FROM line l
)
SELECT id::text AS product_id, q AS quantity FROM line ORDER BY id`;

/**
 * Moves every line of an order's reservation that is in `rule.from` to `rule.to`, with the products'
 * quantities and the audit trail, in ONE statement inside `tx`. Returns the lines moved, in product
 * id order: none when there was nothing to do (a redelivered event, a reservation already settled).
 */
export async function settleReservation(
  tx: Sql,
  { orderId, rule, reason }: { orderId: string; rule: SettlementRule; reason: string | null },
): Promise<SettledLine[]> {
  const { rows } = await tx.query<{ product_id: string; quantity: number }>(SETTLE_RESERVATION, [
    orderId,
    rule.from,
    rule.to,
    rule.available,
    rule.reserved,
    rule.sold,
    rule.movement,
    rule.sign,
    reason,
  ]);
  return rows.map((r) => ({ productId: r.product_id, quantity: r.quantity }));
}
