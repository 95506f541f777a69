import { z } from 'zod';

/**
 * The one synchronous call between services: orders asks products to
 * reserve (POST /internal/reservations) and release
 * (POST /internal/reservations/release) stock for an order. Both sides type
 * against these.
 */
export interface ReserveRequest {
  orderId: string;
  items: { productId: string; quantity: number }[];
}

/** A reserved line, at the catalog price and name of the moment. */
export interface ReservedLine {
  productId: string;
  quantity: number;
  unitCents: number;
  currencyCode: string;
  name: string;
}

export type ReserveResult =
  | { status: 'reserved'; lines: ReservedLine[] }
  | { status: 'unavailable'; items: { productId: string; requested: number; available: number }[] }
  | { status: 'invalid'; field: string; message: string };

/**
 * How orders makes the reservation call (`subgraphs/orders/src/service/inventory-client.ts`):
 * each attempt gives up after INVENTORY_TIMEOUT_MS, and a failed one is
 * retried `retries` times after an exponential backoff of at most
 * `maxBackoffMs`. Products' RESERVATION_DEADLINE_MS is checked against it.
 */
export const RESERVE_CALL_POLICY = { retries: 2, initialBackoffMs: 100, maxBackoffMs: 1_000 } as const;

/**
 * Limits of every interactive transaction, in every service: at most `maxWait` ms for a pooled
 * connection, then at most `timeout` ms before it is rolled back (`@orderflow/common/db` applies them).
 * Part of the reservation's timing: the order write placeOrder makes after reserving may use both in full.
 */
export const TRANSACTION_LIMITS = { maxWait: 10_000, timeout: 15_000 } as const;

/**
 * The longest an in-flight placeOrder can hold a reservation before its order is committed: every
 * attempt of the reservation call running to its timeout (the first may already have reserved, the
 * later ones return the same reservation), the backoffs between them, then the order write waiting for
 * a pooled connection and running to its transaction timeout. An unconfirmed reservation younger than
 * this may still get its order.
 */
export function placeOrderWorstCaseMs(inventoryTimeoutMs: number): number {
  const { retries, maxBackoffMs } = RESERVE_CALL_POLICY;
  return (
    (retries + 1) * inventoryTimeoutMs +
    retries * maxBackoffMs +
    TRANSACTION_LIMITS.maxWait +
    TRANSACTION_LIMITS.timeout
  );
}

/**
 * The reservation's two settings, read by both sides: orders (which calls) and products (whose sweeper
 * acts on overdue reservations) check them with `checkReservationTiming`, so either refuses to start
 * with a deadline that an in-flight placeOrder could outlast. Set them alike on both.
 */
export const reservationEnvSchema = z.object({
  /**
   * Timeout of one reservation call from orders to products, before a retry.
   * Default 5 s: the call is one SQL statement, so a slow answer means an
   * overloaded machine, where retrying early only adds load.
   */
  INVENTORY_TIMEOUT_MS: z.coerce.number().int().min(50).default(5_000),
  /**
   * Age after which products asks orders about an unconfirmed reservation
   * (and releases it when no order was recorded). Default 60 s; must exceed
   * `placeOrderWorstCaseMs(INVENTORY_TIMEOUT_MS)` (42 s by default).
   */
  RESERVATION_DEADLINE_MS: z.coerce.number().int().min(1000).default(60_000),
});

/**
 * Refinement for a schema that includes `reservationEnvSchema`: rejects a deadline at or below the
 * longest an in-flight placeOrder can hold its reservation before its order is committed. A shorter one
 * lets the sweeper release stock under an order about to be written: units sold twice.
 */
export function checkReservationTiming(
  c: { INVENTORY_TIMEOUT_MS: number; RESERVATION_DEADLINE_MS: number },
  ctx: z.RefinementCtx,
): void {
  const worstCase = placeOrderWorstCaseMs(c.INVENTORY_TIMEOUT_MS);
  if (c.RESERVATION_DEADLINE_MS > worstCase) return;
  const { retries, maxBackoffMs } = RESERVE_CALL_POLICY;
  ctx.addIssue({
    code: 'custom',
    path: ['RESERVATION_DEADLINE_MS'],
    message:
      `must be greater than ${worstCase} (got ${c.RESERVATION_DEADLINE_MS}): the longest placeOrder can hold a reservation before its order is written ` +
      `(${retries + 1} reservation attempts × INVENTORY_TIMEOUT_MS ${c.INVENTORY_TIMEOUT_MS}, ${retries} backoffs of up to ${maxBackoffMs}, ` +
      `then the order write: ${TRANSACTION_LIMITS.maxWait} waiting for a connection + ${TRANSACTION_LIMITS.timeout} transaction timeout); ` +
      `a shorter deadline lets the reservation sweeper release stock under an order that is about to be confirmed`,
  });
}
