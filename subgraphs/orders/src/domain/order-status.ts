import type { OrderStatus } from '../db.ts';

/** Statuses from which a customer may still cancel (contract: before SHIPPED). */
export const CANCELLABLE: ReadonlySet<OrderStatus> = new Set(['PENDING_PAYMENT', 'PENDING_SHIPMENT']);

export function canCancel(status: OrderStatus): boolean {
  return CANCELLABLE.has(status);
}
