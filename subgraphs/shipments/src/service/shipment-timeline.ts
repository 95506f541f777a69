import DataLoader from 'dataloader';
import { isUuid } from '@orderflow/contracts';
import type { Db } from '../db.ts';

/** An entry of Order.timeline (the orders subgraph merges these with its own). */
export interface ShipmentTimelineEntry {
  at: string;
  kind: 'SHIPMENT';
  summary: string;
  actor: string | null;
  source: 'shipments';
}

/**
 * Order.shipmentTimeline: each order's delivery events, oldest first, with who moved the shipment
 * (the caller's client id), one query for every order of a request. Internal (@inaccessible): the
 * gateway fetches it only for Order.timeline, of an order the orders subgraph let the viewer see;
 * orders hides the actor from the order's owner.
 */
export function createShipmentTimelineLoader(db: Db) {
  return new DataLoader<string, ShipmentTimelineEntry[]>(async (orderIds) => {
    const shipments = await db.shipment.findMany({
      where: { orderId: { in: orderIds.filter(isUuid) } },
      select: {
        orderId: true,
        trackingNumber: true,
        carrier: true,
        events: { orderBy: { id: 'asc' } },
      },
    });
    const byOrder = new Map(
      shipments.map((s) => [
        s.orderId,
        s.events.map((e): ShipmentTimelineEntry => ({
          at: e.occurredAt.toISOString(),
          kind: 'SHIPMENT',
          summary: [
            `Shipment ${s.trackingNumber} (${s.carrier}) ${e.status}`,
            e.location ? ` at ${e.location}` : '',
            e.description ? `: ${e.description}` : '',
          ].join(''),
          actor: e.actor,
          source: 'shipments',
        })),
      ]),
    );
    return orderIds.map((id) => byOrder.get(id) ?? []);
  });
}
