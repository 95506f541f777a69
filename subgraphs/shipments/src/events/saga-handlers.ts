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
