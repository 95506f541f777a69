import { money } from '@orderflow/contracts';
import type { Resolvers } from './types.generated.ts';

/**
 * Thin resolvers: arguments → one service call → result. `Resolvers` is
 * generated from schema.graphql (`npm run codegen`): arguments, context and
 * results are checked against the schema, with Product and StockMovement
 * parents typed as their Prisma rows.
 */
export const resolvers: Resolvers = {
  Query: {
    product: (_, { id }, ctx) => ctx.loaders.product.load(id),
    products: (_, args, ctx) => ctx.catalog.list(args),
    lowStockAlert: async (_, a, ctx) => {
      const product = await ctx.loaders.product.load(a.productId);
      return (
        product && { product, availableQuantity: a.availableQuantity, threshold: a.threshold, occurredAt: a.occurredAt }
      );
    },
    checkAvailability: (_, { items }, ctx) => ctx.catalog.checkAvailability(items),
  },
  Mutation: {
    // Scopes: @requiresScopes in schema.graphql, enforced before these run.
    createProduct: (_, { input }, ctx) => ctx.catalog.create(input),
    restockProduct: (_, args, ctx) => ctx.catalog.restock(args.productId, args.quantity, args.reason),
  },
  Product: {
    __resolveReference: (ref, ctx) => ctx.loaders.product.load(ref.id),
    price: (p) => money(p.priceCents, p.currencyCode),
    availableQuantity: (p) => p.available,
    reservedQuantity: (p) => p.reserved,
    stockMovements: (p, { first }, ctx) => ctx.catalog.movements(p.id, first),
  },
  Order: {
    __resolveReference: (ref) => ({ id: ref.id }),
    stockTimeline: (o, _, ctx) => ctx.loaders.stockTimeline.load(o.id),
  },
  StockMovement: {
    id: (m) => m.id.toString(),
    occurredAt: (m) => m.occurredAt.toISOString(),
  },
};
