import { describe, expect, it } from 'vitest';
import type { EventHub, HubEvent } from './event-hub.ts';
import { createEventRouter, routeKey } from './event-router.ts';

/** The hub's listening side: what the router needs of it. */
function hub() {
  const listeners = new Map<string, Set<(e: HubEvent) => void>>();
  return {
    listen(type: string, l: (e: HubEvent) => void) {
      if (!listeners.has(type)) listeners.set(type, new Set());
      listeners.get(type)!.add(l);
      return () => listeners.get(type)!.delete(l);
    },
    emit(e: HubEvent) {
      for (const l of listeners.get(e.event.type) ?? []) l(e);
    },
    listeners,
  };
}

const change = (seq: number, orderId: string, customerId: string) =>
  ({ seq, event: { type: 'orders.status_changed', data: { orderId, customerId } } }) as unknown as HubEvent;

describe('the event router', () => {
  it('hands an event only to the subscriptions of its order, its customer, or everyone; one hub listener per type', () => {
    const h = hub();
    const router = createEventRouter(h as unknown as EventHub);
    const got: string[] = [];
    const offs = [
      router.listen('orders.status_changed', routeKey.order('o1'), (e) => got.push(`order-o1:${e.seq}`)),
      router.listen('orders.status_changed', routeKey.customer('c1'), (e) => got.push(`customer-c1:${e.seq}`)),
      router.listen('orders.status_changed', routeKey.customer('c2'), (e) => got.push(`customer-c2:${e.seq}`)),
      router.listen('inventory.low_stock', routeKey.all, (e) => got.push(`stock:${e.seq}`)),
    ];
    expect(h.listeners.get('orders.status_changed')?.size).toBe(1);
    h.emit(change(1, 'o1', 'c1'));
    h.emit(change(2, 'o2', 'c2'));
    h.emit({ seq: 3, event: { type: 'inventory.low_stock', data: {} } } as unknown as HubEvent);
    expect(got).toEqual(['order-o1:1', 'customer-c1:1', 'customer-c2:2', 'stock:3']);
    for (const off of offs) off();
    expect(router.routes).toBe(0);
    h.emit(change(4, 'o1', 'c1'));
    expect(got).toHaveLength(4);
  });
});
