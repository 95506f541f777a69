import { Counter, type Registry } from '@orderflow/common/observability';

/** Reservations the products service refused: reason unavailable (stock short) or invalid (unknown or inactive product). */
export function createReservationFailures(registry: Registry) {
  return new Counter({
    name: 'reservation_failures_total',
    help: 'Stock reservations refused, by reason: unavailable (not enough stock) or invalid (bad product)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
}
