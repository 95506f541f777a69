import { money } from '@orderflow/common';
import type { Product, StockMovement } from '../db.ts';
import type { ProductsContext } from '../context.ts';

/** Thin resolvers: arguments → one service call → result. */
export const resolvers = {
  Query: {
    product: (_: unknown, { id }: { id: string }, ctx: ProductsContext) => ctx.loaders.product.load(id),
    products: (_: unknown, args: { first: number; after?: string | null; search?: string | null }, ctx: ProductsContext) => ctx.catalog.list(args),
    lowStockAlert: async (_: unknown, a: { productId: string; availableQuantity: number; threshold: number; occurredAt: string }, ctx: ProductsContext) => {
      const product = await ctx.loaders.product.load(a.productId);
      return product && { product, availableQuantity: a.availableQuantity, threshold: a.threshold, occurredAt: a.occurredAt };
    },
    checkAvailability: (_: unknown, { items }: { items: { productId: string; quantity: number }[] }, ctx: ProductsContext) =>
      ctx.catalog.checkAvailability(items),
  },
  Mutation: {
    // Scopes: @requiresScopes in schema.graphql, enforced before these run.
    createProduct: (_: unknown, { input }: { input: Parameters<ProductsContext['catalog']['create']>[0] }, ctx: ProductsContext) =>
      ctx.catalog.create(input),
    restockProduct: (_: unknown, args: { productId: string; quantity: number; reason?: string | null }, ctx: ProductsContext) =>
      ctx.catalog.restock(args.productId, args.quantity, args.reason),
  },
  Product: {
    __resolveReference: (ref: { id: string }, ctx: ProductsContext) => ctx.loaders.product.load(ref.id),
    price: (p: Product) => money(p.priceCents, p.currencyCode),
    availableQuantity: (p: Product) => p.available,
    reservedQuantity: (p: Product) => p.reserved,
    stockMovements: (p: Product, { first }: { first: number }, ctx: ProductsContext) => ctx.catalog.movements(p.id, first),
  },
  StockMovement: {
    id: (m: StockMovement) => m.id.toString(),
    occurredAt: (m: StockMovement) => m.occurredAt.toISOString(),
  },
};
