import {
  BrokenCircuitError,
  ConsecutiveBreaker,
  ExponentialBackoff,
  circuitBreaker,
  handleType,
  retry,
  wrap,
} from 'cockatiel';
import { type Logger } from '@orderflow/common/observability';
import { createInternalClient, type InternalAuth } from '@orderflow/common/server';
import { RESERVE_CALL_POLICY, type ReserveResult } from '@orderflow/contracts';

export type { ReservedLine } from '@orderflow/contracts';
export type ReserveOutcome = ReserveResult;

/** The products service could not be reached (after retries, or the circuit is open). */
export class InventoryUnavailableError extends Error {
  constructor(cause?: unknown) {
    super('Inventory service unavailable', { cause });
  }
}

class TransientError extends Error {}

/**
 * The synchronous reservation call to the products service, with the
 * resilience it needs on the order path: a retry with exponential backoff
 * for transient failures (safe: a reservation is idempotent per order id),
 * inside a circuit breaker that fails fast while products is down.
 */
export function createInventoryClient({
  baseUrl,
  internalAuth,
  log,
  timeoutMs = 5_000,
}: {
  baseUrl: string;
  internalAuth: InternalAuth;
  log: Logger;
  timeoutMs?: number;
}) {
  const http = createInternalClient({
    baseUrl,
    internalAuth,
    service: 'orders',
    scopes: ['internal:inventory'],
    timeoutMs,
  });
  const transient = handleType(TransientError);
  // Two retries: enough for a dropped connection or a restarting instance, few enough not to multiply an overload.
  // Products' RESERVATION_DEADLINE_MS is validated against this policy (placeOrderWorstCaseMs): change them together.
  const { retries, initialBackoffMs, maxBackoffMs } = RESERVE_CALL_POLICY;
  const retryPolicy = retry(transient, {
    maxAttempts: retries,
    backoff: new ExponentialBackoff({ initialDelay: initialBackoffMs, maxDelay: maxBackoffMs }),
  });
  const breaker = circuitBreaker(transient, { halfOpenAfter: 5_000, breaker: new ConsecutiveBreaker(10) });
  breaker.onBreak(() => log.warn('inventory circuit opened'));
  breaker.onReset(() => log.info('inventory circuit closed'));
  const policy = wrap(breaker, retryPolicy);

  async function call<T>(path: string, body: unknown): Promise<T> {
    try {
      return await policy.execute(async () => {
        let res: { status: number; body: T };
        try {
          res = await http.post<T>(path, body);
        } catch (err) {
          throw new TransientError((err as Error).message);
        }
        if (res.status >= 500 || res.status === 429) throw new TransientError(`products answered ${res.status}`);
        if (res.status !== 200) throw new Error(`products refused the call with ${res.status}`);
        return res.body;
      });
    } catch (err) {
      if (err instanceof BrokenCircuitError || err instanceof TransientError) throw new InventoryUnavailableError(err);
      throw err;
    }
  }

  return {
    reserve: (orderId: string, items: { productId: string; quantity: number }[]) =>
      call<ReserveOutcome>('/reservations', { orderId, items }),
    release: (orderId: string, reason: string) =>
      call<{ released: number }>('/reservations/release', { orderId, reason }),
  };
}
export type InventoryClient = ReturnType<typeof createInventoryClient>;
