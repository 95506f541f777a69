import type { Logger } from '@orderflow/common';
import type { InventoryService } from '../service/inventory-service.ts';

/**
 * Safety net for the reservation call: if the orders service reserved stock
 * but never recorded the order (it crashed, or its write failed and the
 * release call was lost), the units would stay held for ever. Every
 * `intervalMs` the sweeper asks the orders service which of the old,
 * unconfirmed reservations belong to a recorded order, confirms those and
 * releases the rest.
 */
export function createReservationSweeper({
  inventory,
  existingOrders,
  log,
  deadlineMs,
  intervalMs,
}: {
  inventory: InventoryService;
  /** Which of these order ids the orders service has recorded. */
  existingOrders: (orderIds: string[]) => Promise<string[]>;
  log: Logger;
  deadlineMs: number;
  intervalMs: number;
}) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | null = null;

  async function sweep(): Promise<{ confirmed: number; released: number }> {
    const candidates = await inventory.unconfirmed(deadlineMs);
    if (candidates.length === 0) return { confirmed: 0, released: 0 };
    const existing = new Set(await existingOrders(candidates));
    await inventory.confirm([...existing]);
    let released = 0;
    for (const orderId of candidates) {
      if (!existing.has(orderId))
        released += (await inventory.release(orderId, 'expired: order was never recorded')) ? 1 : 0;
    }
    if (released) log.warn({ released }, 'released orphaned reservations');
    return { confirmed: existing.size, released };
  }

  return {
    sweep,
    start() {
      timer = setInterval(() => {
        if (running) return;
        running = sweep()
          .then(() => {})
          .catch((err) => log.warn({ err: (err as Error).message }, 'reservation sweep failed; will retry'))
          .finally(() => (running = null));
      }, intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
