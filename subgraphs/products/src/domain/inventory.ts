/**
 * Inventory rules, pure: what a reservation may take, why one is
 * refused, and which lines raise a low-stock alert. The reservation statement
 * (store/inventory-store.ts) applies the first rule under the row locks; the database enforces the invariant
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

/** A reservation line that took its product's available stock from above its threshold to at or below it. */
export interface LowStockCrossing {
  productId: string;
  /** Available stock after the line was taken. */
  availableQuantity: number;
  threshold: number;
}

/**
 * The low-stock alerts a reservation raises, one per line that takes its product's available stock from
 * above the threshold to at or below it, with `before` the products as the reservation locked them.
 * Decided from the locked values, so of concurrent reservations of one product exactly one crosses.
 * A product missing from `before` (or without a recorded value) raises none.
 */
export function lowStockCrossings(
  lines: ReserveLine[],
  before: { id: string; available: number | null; lowStockThreshold: number | null }[],
): LowStockCrossing[] {
  const byId = new Map(before.map((s) => [s.id, s]));
  return lines.flatMap(({ productId, quantity }) => {
    const row = byId.get(productId);
    if (row?.available == null || row.lowStockThreshold == null) return [];
    const after = row.available - quantity;
    const threshold = row.lowStockThreshold;
    return row.available > threshold && after <= threshold ? [{ productId, availableQuantity: after, threshold }] : [];
  });
}

/**
 * How a reservation moves on: from which status, to which, and what each line does to the product's
 * quantities (factors of the line's quantity) and its audit trail (the movement's type and sign). The
 * settlement statement (store/inventory-store.ts) carries one of these out; it decides nothing itself.
 */
export const SETTLEMENTS = {
  release: {
    from: 'ACTIVE',
    to: 'RELEASED',
    available: +1,
    reserved: -1,
    sold: 0,
    movement: 'RELEASE',
    sign: +1,
    event: 'inventory.released',
  },
  commit: {
    from: 'ACTIVE',
    to: 'COMMITTED',
    available: 0,
    reserved: -1,
    sold: +1,
    movement: 'COMMIT',
    sign: -1,
    event: 'inventory.committed',
  },
  return: {
    from: 'COMMITTED',
    to: 'RETURNED',
    available: +1,
    reserved: 0,
    sold: -1,
    movement: 'RETURN',
    sign: +1,
    event: 'inventory.returned',
  },
} as const;
export type Settlement = keyof typeof SETTLEMENTS;
export type SettlementRule = (typeof SETTLEMENTS)[Settlement];
