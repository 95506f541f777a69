import type { Logger } from '@orderflow/common/observability';
import type { InventoryService } from '../service/inventory-service.ts';

/**
 * Safety net for the reservation call: if the orders service reserved stock but never recorded the order
 * (it crashed, or its write failed and the release call was lost), the units would stay held for ever.
 * Every `intervalMs` the sweeper asks the orders service, by event (inventory.reservation_overdue), about
 * the reservations still held past `deadlineMs`; orders answers with orders.reservation_checked, and the
 * `settle-overdue-reservation` handler keeps a recorded order's reservation and releases the others.
 * Payment settles almost every reservation long before its deadline.
 */
export function createReservationSweeper({
  inventory,
  log,
  deadlineMs,
  intervalMs,
  recheckAfterMs = 60_000,
}: {
  inventory: InventoryService;
  log: Logger;
  deadlineMs: number;
  intervalMs: number;
  /** How long an asked order waits for its answer before it is asked again. Default one minute. */
  recheckAfterMs?: number;
}) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | null = null;

  async function sweep(): Promise<{ requested: number }> {
    const asked = await inventory.requestChecks(deadlineMs, recheckAfterMs);
    if (asked.length) log.info({ orders: asked.length }, 'asked the orders service about overdue reservations');
    return { requested: asked.length };
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
