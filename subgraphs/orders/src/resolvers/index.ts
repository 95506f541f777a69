import { requireViewer } from '@orderflow/common/server';
import { money } from '@orderflow/contracts';
import type { TimelineContributions } from '../service/order-timeline.ts';
import type { Resolvers } from './types.generated.ts';

/**
 * Thin resolvers: arguments → one service call → result. `Resolvers` is
 * generated from schema.graphql (`npm run codegen`): arguments, context and
 * results are checked against the schema, with Order, OrderItem and
 * OrderStatusChange parents typed as their Prisma rows.
 */
export const resolvers: Resolvers = {
  Query: {
    order: (_, { id }, ctx) => ctx.orders.findVisible(ctx.viewer, id),
    orderStatusChange: (_, { id }, ctx) => ctx.orders.findVisibleChange(ctx.viewer, id),
    myOrders: (_, args, ctx) => ctx.orders.myOrders(requireViewer(ctx.viewer), args),
    // orders:read:all: @requiresScopes on both.
    orders: (_, args, ctx) => ctx.operations.searchOrders(args),
    businessMetrics: (_, { windowMinutes }, ctx) => ctx.operations.businessMetrics({ windowMinutes }),
  },
  Mutation: {
    // Scopes: @requiresScopes in schema.graphql, enforced before these run; ownership stays in the service.
    placeOrder: (_, { input }, ctx) => ctx.orders.placeOrder(requireViewer(ctx.viewer), input, ctx.loaders),
    cancelOrder: (_, { orderId, reason }, ctx) => ctx.orders.cancelOrder(requireViewer(ctx.viewer), orderId, reason),
    cancelOrderAsOperator: (_, { orderId, reason }, ctx) =>
      ctx.operations.cancelOrderAsOperator(requireViewer(ctx.viewer), orderId, reason),
    replayDeadLetter: (_, { sequence }, ctx) => ctx.operations.replayDeadLetter(requireViewer(ctx.viewer), sequence),
  },
  PlaceOrderResult: { __resolveType: (r) => r.__typename },
  CancelOrderResult: { __resolveType: (r) => r.__typename },
  Order: {
    async __resolveReference(ref, ctx) {
      const order = await ctx.loaders.order.load(ref.id);
      if (!order || !ctx.viewer || !ctx.orders.canSee(ctx.viewer, order)) return null;
      // With Order.timeline asked for, the gateway sends what products and shipments contributed (@requires).
      const { stockTimeline, shipmentTimeline } = ref as TimelineContributions;
      return stockTimeline || shipmentTimeline ? { ...order, stockTimeline, shipmentTimeline } : order;
    },
    items: (o, _, ctx) => ctx.loaders.items.load(o.id),
    totalAmount: (o) => money(o.totalCents, o.currencyCode),
    shippingAddress: (o) => ({
      name: o.shipName,
      line1: o.shipLine1,
      line2: o.shipLine2,
      city: o.shipCity,
      postalCode: o.shipPostalCode,
      country: o.shipCountry,
    }),
    statusHistory: (o, _, ctx) => ctx.loaders.history.load(o.id),
    // Reached through an order the viewer may see (__resolveReference); what they see of it is decided there.
    timeline: (o, _, ctx) => ctx.operations.timeline(requireViewer(ctx.viewer), o, o as TimelineContributions),
    createdAt: (o) => o.createdAt.toISOString(),
    updatedAt: (o) => o.updatedAt.toISOString(),
  },
  OrderItem: {
    product: (i) => ({ __typename: 'Product', id: i.productId }),
    unitPrice: (i) => money(i.unitPriceCents),
    lineTotal: (i) => money(i.unitPriceCents * i.quantity),
  },
  OrderStatusChange: {
    occurredAt: (c) => c.occurredAt.toISOString(),
    // Reached only through a change the viewer may see (orderStatusChange, Order.statusHistory).
    async order(c, _, ctx) {
      const order = await ctx.loaders.order.load(c.orderId);
      // order_id is a foreign key and orders are never deleted: a missing order is a broken
      // invariant, reported as an internal error rather than a null in a non-null field.
      if (!order) throw new Error(`order ${c.orderId} of status change ${c.id} not found`);
      return order;
    },
  },
};
