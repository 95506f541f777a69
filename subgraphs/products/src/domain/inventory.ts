/**
 * Inventory rules, pure: what a reservation may take, and why one is
 * refused. The reservation statement (service/inventory-service.ts) applies
 * the same rule under the row locks; the database enforces the invariant
 * with CHECK constraints (available + reserved + sold = stocked, none negative).
 */

export interface StockRow {
  id: string;
  available: number;
  isActive: boolean;
  lowStockThreshold: number;
}

export interface ReserveLine {
  productId: string;
  quantity: number;
}

export interface Shortfall {
  productId: string;
  requested: number;
  available: number;
}

export type ReservationDecision =
  | { kind: 'ok' }
  | { kind: 'unknown-product'; index: number; productId: string }
  | { kind: 'short'; items: Shortfall[] };

/** All lines or none: every product must exist, be active and have enough available. */
export function decideReservation(lines: ReserveLine[], stock: StockRow[]): ReservationDecision {
  const byId = new Map(stock.map((s) => [s.id, s]));
  const short: Shortfall[] = [];
  for (const [index, line] of lines.entries()) {
    const row = byId.get(line.productId);
    if (!row || !row.isActive) return { kind: 'unknown-product', index, productId: line.productId };
    if (row.available < line.quantity)
      short.push({ productId: line.productId, requested: line.quantity, available: row.available });
  }
  return short.length ? { kind: 'short', items: short } : { kind: 'ok' };
}
