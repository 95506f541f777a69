import type { ShipmentStatus } from '@orderflow/contracts';

/** The one next step of each status; delivery moves forward only, one step at a time. */
const NEXT: Partial<Record<ShipmentStatus, ShipmentStatus>> = {
  PROCESSING: 'SHIPPED',
  SHIPPED: 'IN_TRANSIT',
  IN_TRANSIT: 'DELIVERED',
};

export function isValidTransition(from: ShipmentStatus, to: ShipmentStatus): boolean {
  return NEXT[from] === to;
}

/** The one status a shipment can move to `to` from, or null when no move leads there (PROCESSING, CANCELLED). */
export function previousStatus(to: ShipmentStatus): ShipmentStatus | null {
  return (Object.keys(NEXT) as ShipmentStatus[]).find((from) => NEXT[from] === to) ?? null;
}
