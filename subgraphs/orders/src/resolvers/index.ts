import { money, requireViewer } from '@orderflow/common';
import type { Order, OrderItem, OrderStatus, OrderStatusChange } from '../db.ts';
import type { PlaceOrderInput } from '../domain/place-order.ts';
import type { OrdersContext } from '../context.ts';

/** Thin resolvers: arguments → one service call → result. */
export const resolvers = {
  Query: {
    order: (_: unknown, { id }: { id: string }, ctx: OrdersContext) => ctx.orders.findVisible(ctx.viewer, id),
    orderStatusChange: (_: unknown, { id }: { id: string }, ctx: OrdersContext) => ctx.orders.findVisibleChange(ctx.viewer, id),
    myOrders: (_: unknown, args: { first: number; after?: string | null; status?: OrderStatus | null }, ctx: OrdersContext) =>
      ctx.orders.myOrders(ctx.viewer, args),
  },
  Mutation: {
    // Scopes: @requiresScopes in schema.graphql, enforced before these run; ownership stays in the service.
    placeOrder: (_: unknown, { input }: { input: PlaceOrderInput }, ctx: OrdersContext) => ctx.orders.placeOrder(requireViewer(ctx.viewer), input),
    cancelOrder: (_: unknown, { orderId, reason }: { orderId: string; reason?: string | null }, ctx: OrdersContext) =>
      ctx.orders.cancelOrder(requireViewer(ctx.viewer), orderId, reason),
  },
  PlaceOrderResult: { __resolveType: (r: { __typename: string }) => r.__typename },
  CancelOrderResult: { __resolveType: (r: { __typename: string }) => r.__typename },
  Order: {
    async __resolveReference(ref: { id: string }, ctx: OrdersContext) {
      const order = await ctx.loaders.order.load(ref.id);
      return order && ctx.viewer && ctx.orders.canSee(ctx.viewer, order) ? order : null;
    },
    items: (o: Order, _: unknown, ctx: OrdersContext) => ctx.loaders.items.load(o.id),
    totalAmount: (o: Order) => money(o.totalCents, o.currencyCode),
    shippingAddress: (o: Order) => ({ name: o.shipName, line1: o.shipLine1, line2: o.shipLine2, city: o.shipCity, postalCode: o.shipPostalCode, country: o.shipCountry }),
    statusHistory: (o: Order, _: unknown, ctx: OrdersContext) => ctx.loaders.history.load(o.id),
    createdAt: (o: Order) => o.createdAt.toISOString(),
    updatedAt: (o: Order) => o.updatedAt.toISOString(),
  },
  OrderItem: {
    product: (i: OrderItem) => ({ __typename: 'Product', id: i.productId }),
    unitPrice: (i: OrderItem & { currencyCode?: string }) => money(i.unitPriceCents),
    lineTotal: (i: OrderItem) => money(i.unitPriceCents * i.quantity),
  },
  OrderStatusChange: {
    occurredAt: (c: OrderStatusChange) => c.occurredAt.toISOString(),
    order: (c: OrderStatusChange, _: unknown, ctx: OrdersContext) => ctx.loaders.order.load(c.orderId),
  },
};
