import { type Sql } from '@orderflow/common/db';
import { type EventHandler } from '@orderflow/common/messaging';
import { EventSchemas } from '@orderflow/contracts';
import type { ShipmentService } from '../service/shipment-service.ts';

/** orders.status_changed to PENDING_SHIPMENT → a PROCESSING shipment with a carrier and tracking number. */
export function shipOnPaidOrder(
  shipments: ShipmentService,
): EventHandler<(typeof EventSchemas)['orders.status_changed']['_output'], Sql> {
  return {
    name: 'create-shipment',
    type: 'orders.status_changed',
    schema: EventSchemas['orders.status_changed'],
    relevant: (event) => event.data.status === 'PENDING_SHIPMENT',
    async handle(event, { tx }) {
      await shipments.createForOrder(tx, { orderId: event.data.orderId, customerId: event.data.customerId }, event.id);
    },
  };
}

/**
 * orders.cancel_requested → the arbitration of a paid order's cancel against a dispatch:
 * shipments.cancelled (no shipment yet, or a PROCESSING one, now CANCELLED) or shipments.cancel_refused
 * (dispatched first).
 */
export function cancelOnRequest(
  shipments: ShipmentService,
): EventHandler<(typeof EventSchemas)['orders.cancel_requested']['_output'], Sql> {
  return {
    name: 'cancel-shipment',
    type: 'orders.cancel_requested',
    schema: EventSchemas['orders.cancel_requested'],
    async handle(event, { tx, log }) {
      const outcome = await shipments.cancelForOrder(tx, event.data, event.id);
      log.info({ orderId: event.data.orderId, outcome: outcome.status }, 'cancel request arbitrated');
    },
  };
}
