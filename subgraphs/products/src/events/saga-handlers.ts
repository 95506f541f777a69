import { type Sql } from '@orderflow/common/db';
import { type EventHandler } from '@orderflow/common/messaging';
import { EventSchemas } from '@orderflow/contracts';
import type { InventoryService } from '../service/inventory-service.ts';

type Handler<K extends keyof typeof EventSchemas> = EventHandler<(typeof EventSchemas)[K]['_output'], Sql>;

/**
 * The products service's part of the saga. Each handler runs in its
 * consumer's inbox transaction, and each settlement only moves a reservation
 * in the status it expects, so a late or repeated event changes nothing.
 */
export function inventoryHandlers(inventory: InventoryService) {
  /**
   * A batch of settlements locks its orders' lines and products first, all at once in product id order
   * (each settlement alone locks only its order's, and the batch's orders one after another would not lock
   * products in one order). The consumer calls it only for a batch of more than one event.
   */
  const lockBatch = (events: { data: { orderId: string } }[], { tx }: { tx: Sql }) =>
    inventory.lockForSettlement(
      tx,
      events.map((e) => e.data.orderId),
    );
  /** payments.succeeded → the units leave the shelf (reserved → sold). */
  const commit: Handler<'payments.succeeded'> = {
    name: 'commit-reservation',
    lockBatch,
    type: 'payments.succeeded',
    schema: EventSchemas['payments.succeeded'],
    async handle(event, { tx }) {
      await inventory.settle(tx, event.data.orderId, 'commit', 'paid', event.id);
    },
  };
  /** payments.failed → the reservation is released at once. */
  const release: Handler<'payments.failed'> = {
    name: 'release-on-payment-failure',
    lockBatch,
    type: 'payments.failed',
    schema: EventSchemas['payments.failed'],
    async handle(event, { tx }) {
      await inventory.settle(tx, event.data.orderId, 'release', `payment failed: ${event.data.reason}`, event.id);
    },
  };
  /** orders.cancelled → a held reservation is released; committed units come back (RETURN). */
  const cancel: Handler<'orders.cancelled'> = {
    name: 'restock-on-cancel',
    lockBatch,
    type: 'orders.cancelled',
    schema: EventSchemas['orders.cancelled'],
    async handle(event, { tx }) {
      const reason = `order cancelled${event.data.reason ? `: ${event.data.reason}` : ''}`;
      await inventory.settle(tx, event.data.orderId, 'release', reason, event.id);
      await inventory.settle(tx, event.data.orderId, 'return', reason, event.id);
    },
  };
  /**
   * orders.reservation_checked → the orders service's answer about an overdue reservation (the sweeper
   * asked): a recorded order keeps it (confirmed: never asked about again), any other is released.
   */
  const overdue: Handler<'orders.reservation_checked'> = {
    name: 'settle-overdue-reservation',
    lockBatch,
    type: 'orders.reservation_checked',
    schema: EventSchemas['orders.reservation_checked'],
    async handle(event, { tx }) {
      if (event.data.orderExists) await inventory.confirm([event.data.orderId], tx);
      else await inventory.settle(tx, event.data.orderId, 'release', 'expired: order was never recorded', event.id);
    },
  };
  return [commit, release, cancel, overdue];
}
