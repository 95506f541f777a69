import { appError, createInternalClient, type InternalAuth } from '@orderflow/common/server';
import { ErrorCode } from '@orderflow/contracts';
import type { OrderStatus } from '../db.ts';

export type CancelVerdict = { status: 'cancelled' } | { status: 'too-late'; orderStatus: OrderStatus };

const MIRROR: Record<string, OrderStatus> = { SHIPPED: 'SHIPPED', IN_TRANSIT: 'IN_TRANSIT', DELIVERED: 'DELIVERED' };

/** The shipments service, which arbitrates a cancel against a dispatch. */
export function createShipmentsClient({ baseUrl, internalAuth }: { baseUrl: string; internalAuth: InternalAuth }) {
  const http = createInternalClient({ baseUrl, internalAuth, service: 'orders', scopes: ['internal:shipments'] });
  return {
    /** Asks shipments to cancel the order's shipment; `reason` travels on its shipments.cancelled event. */
    async cancel(orderId: string, reason: string): Promise<CancelVerdict> {
      let res;
      try {
        res = await http.post<{ status: 'cancelled' | 'too-late'; shipmentStatus?: string }>('/shipments/cancel', {
          orderId,
          reason,
        });
      } catch {
        throw appError(ErrorCode.SERVICE_UNAVAILABLE, 'Shipments are temporarily unavailable; please retry');
      }
      if (res.status !== 200)
        throw appError(ErrorCode.SERVICE_UNAVAILABLE, 'Shipments are temporarily unavailable; please retry');
      if (res.body.status === 'cancelled') return { status: 'cancelled' };
      return { status: 'too-late', orderStatus: MIRROR[res.body.shipmentStatus ?? ''] ?? 'SHIPPED' };
    },
  };
}
export type ShipmentsClient = ReturnType<typeof createShipmentsClient>;
