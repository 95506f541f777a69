import { TRANSACTION_LIMITS } from './db.ts';

import { RESERVE_CALL_POLICY } from '@orderflow/contracts';

/**
 * The longest an in-flight placeOrder can hold a reservation before its
 * order is committed: every attempt of the reservation call running to its
 * timeout (the first may already have reserved, the later ones return the
 * same reservation), the backoffs between them, then the order write waiting
 * for a pooled connection and running to its transaction timeout. An
 * unconfirmed reservation younger than this may still get its order.
 */
export function placeOrderWorstCaseMs(inventoryTimeoutMs: number): number {
  const { retries, maxBackoffMs } = RESERVE_CALL_POLICY;
  return (
    (retries + 1) * inventoryTimeoutMs +
    retries * maxBackoffMs +
    TRANSACTION_LIMITS.maxWait +
    TRANSACTION_LIMITS.timeout
  );
}
