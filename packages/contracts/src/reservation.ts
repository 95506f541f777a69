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
