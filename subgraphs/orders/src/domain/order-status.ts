import type { OrderStatus, ShipmentStatus } from '@orderflow/contracts';

/** Every transition the order lifecycle allows (contract: OrderStatus). */
const ALLOWED: Record<OrderStatus, readonly OrderStatus[]> = {
  PENDING_PAYMENT: ['PENDING_SHIPMENT', 'PAYMENT_FAILED', 'CANCELLED'],
  PENDING_SHIPMENT: ['SHIPPED', 'CANCELLED'],
  SHIPPED: ['IN_TRANSIT'],
  IN_TRANSIT: ['DELIVERED'],
  DELIVERED: [],
  CANCELLED: [],
  PAYMENT_FAILED: [],
};

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return ALLOWED[from].includes(to);
}

/** Statuses from which a customer may still cancel (contract: before SHIPPED). */
export function canCancel(status: OrderStatus): boolean {
  return canTransition(status, 'CANCELLED');
}

/** The order status that mirrors a shipment status. */
const MIRROR: Partial<Record<ShipmentStatus, OrderStatus>> = {
  PROCESSING: 'PENDING_SHIPMENT',
  SHIPPED: 'SHIPPED',
  IN_TRANSIT: 'IN_TRANSIT',
  DELIVERED: 'DELIVERED',
};

/** The order status a dispatched shipment's status stands for (a refused cancel's answer); SHIPPED when unknown. */
export function mirroredStatus(shipmentStatus: string | null): OrderStatus {
  return MIRROR[shipmentStatus as ShipmentStatus] ?? 'SHIPPED';
}

const RANK: Partial<Record<OrderStatus, number>> = {
  PENDING_PAYMENT: 0,
  PENDING_SHIPMENT: 1,
  SHIPPED: 2,
  IN_TRANSIT: 3,
  DELIVERED: 4,
};

/**
 * What to do with a shipment moving `from → to` when the order is in `current`:
 * apply it; wait, because an earlier step has not reached us yet; or ignore
 * it, because the order has moved on (a duplicate, or a cancelled order).
 */
export function mirrorShipment(
  current: OrderStatus,
  from: ShipmentStatus,
  to: ShipmentStatus,
): { action: 'apply'; status: OrderStatus } | { action: 'wait' } | { action: 'ignore' } {
  const expected = MIRROR[from];
  const target = MIRROR[to];
  if (!expected || !target) return { action: 'ignore' };
  if (current === expected && canTransition(current, target)) return { action: 'apply', status: target };
  const rank = RANK[current];
  if (rank === undefined) return { action: 'ignore' }; // terminal: cancelled or failed
  return rank < RANK[expected]! ? { action: 'wait' } : { action: 'ignore' };
}
