import type { DeliveryEvent, Shipment } from '../db.ts';
import type { ShipmentsContext } from '../context.ts';
import type { UpdateShipmentStatusInput } from '../service/shipment-service.ts';
import type { Resolvers } from './types.generated.ts';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** Thin resolvers: arguments → one service call → result. */
export const resolvers: Resolvers = {
  Query: {
    shipment: (_: unknown, { id }: { id: string }, ctx: ShipmentsContext) => ctx.shipments.findVisible(ctx.viewer, id),
  },
  Mutation: {
    // Scope: @requiresScopes in schema.graphql, enforced before this runs.
    updateShipmentStatus: (_: unknown, { input }: { input: UpdateShipmentStatusInput }, ctx: ShipmentsContext) =>
      // The caller's client id goes into the delivery event: the order's timeline shows staff who moved it.
      ctx.shipments.updateStatus(input, ctx.viewer?.clientId ?? null),
  },
  Order: {
    // Reached only through an order the orders subgraph already let the viewer see.
    shipment: (order: { id: string }, _: unknown, ctx: ShipmentsContext) => ctx.loaders.byOrder.load(order.id),
    shipmentTimeline: (order: { id: string }, _: unknown, ctx: ShipmentsContext) => ctx.loaders.timeline.load(order.id),
  },
  Shipment: {
    async __resolveReference(ref: { id: string }, ctx: ShipmentsContext) {
      const s = await ctx.loaders.byId.load(ref.id);
      return s && ctx.viewer && ctx.shipments.canSee(ctx.viewer, s) ? s : null;
    },
    order: (s: Shipment) => ({ __typename: 'Order', id: s.orderId }),
    events: (s: Shipment, _: unknown, ctx: ShipmentsContext) => ctx.loaders.events.load(s.id),
    createdAt: (s: Shipment) => s.createdAt.toISOString(),
    updatedAt: (s: Shipment) => s.updatedAt.toISOString(),
    deliveredAt: (s: Shipment) => iso(s.deliveredAt),
  },
  DeliveryEvent: {
    id: (e: DeliveryEvent) => e.id.toString(),
    occurredAt: (e: DeliveryEvent) => e.occurredAt.toISOString(),
  },
};
