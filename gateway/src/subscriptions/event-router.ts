import type { EventHub, HubEvent } from './event-hub.ts';

/** A subscription's side of a route: an object (one per subscription, no closure of its own). */
export interface RouteListener {
  onEvent(e: HubEvent): void;
}

/**
 * The keys an event is delivered under: its order and its customer for a
 * status change, one key for everything else. A subscription listens under
 * exactly one of them (`routeKey`).
 */
function keysOf(e: HubEvent): string[] {
  const d = e.event.data;
  if (e.event.type === 'orders.status_changed')
    return [`order:${String(d.orderId)}`, `customer:${String(d.customerId)}`];
  return ['*'];
}

/** The key an order's subscriptions, a customer's, or everyone's listen under. */
export const routeKey = {
  order: (orderId: string) => `order:${orderId}`,
  customer: (customerId: string) => `customer:${customerId}`,
  all: '*',
} as const;

/**
 * Hands each event of the hub only to the subscriptions it is for, by key
 * (an order id, a customer id), instead of asking every open subscription
 * whether it wants it: with 5,000 open order pages an event costs the few
 * lookups of its own, not 5,000 calls. One hub listener per event type.
 */
export function createEventRouter(hub: EventHub) {
  const routes = new Map<string, Set<RouteListener>>();
  const followed = new Set<string>();

  const dispatch = (e: HubEvent) => {
    for (const key of keysOf(e)) {
      const listeners = routes.get(`${e.event.type}\u0000${key}`);
      if (listeners) for (const l of listeners) l.onEvent(e);
    }
  };

  /** Live events of `type` under `key` from now on, until `remove` with the same arguments. */
  function add(type: string, key: string, listener: RouteListener): void {
    if (!followed.has(type)) {
      followed.add(type);
      hub.listen(type, dispatch);
    }
    const route = `${type}\u0000${key}`;
    let set = routes.get(route);
    if (!set) routes.set(route, (set = new Set()));
    set.add(listener);
  }

  function remove(type: string, key: string, listener: RouteListener): void {
    const route = `${type}\u0000${key}`;
    const set = routes.get(route);
    if (!set?.delete(listener)) return;
    if (!set.size) routes.delete(route);
  }

  return {
    add,
    remove,
    /** Live events of `type` under `key` to a function from now on; returns the unsubscribe function. */
    listen(type: string, key: string, listener: (e: HubEvent) => void): () => void {
      const l: RouteListener = { onEvent: listener };
      add(type, key, l);
      return () => remove(type, key, l);
    },
    /** Keys with at least one listener (tests: nothing is left behind). */
    get routes() {
      return routes.size;
    },
  };
}
