import { randomUUID } from 'node:crypto';
import DataLoader from 'dataloader';
import { badInput, isUniqueViolation, notFound } from '@orderflow/common/server';
import { decodeCursor, encodeCursor, isPageSize, isUuid } from '@orderflow/contracts';
import type { Db, Product } from '../db.ts';
import { validateCreateProduct, validateRestock, type CreateProductInput } from '../domain/product-input.ts';

export function createCatalogService({ db, maxPriceCents }: { db: Db; maxPriceCents: number }) {
  return {
    /** One batched query per request for every product a federated query touches. */
    createProductLoader() {
      return new DataLoader<string, Product | null>(async (ids) => {
        const valid = ids.filter(isUuid);
        const rows = valid.length ? await db.product.findMany({ where: { id: { in: [...new Set(valid)] } } }) : [];
        const byId = new Map(rows.map((r) => [r.id, r]));
        return ids.map((id) => byId.get(id) ?? null);
      });
    },

    async list({ first, after, search }: { first: number; after?: string | null; search?: string | null }) {
      if (!isPageSize(first)) throw badInput('first must be an integer from 0 to 100', 'first');
      if (search != null && search.length > 200) throw badInput('search must be at most 200 characters', 'search');
      let cursor: [string, string] | null = null;
      if (after != null) {
        const parts = decodeCursor(after, 2);
        if (!parts || !isUuid(parts[1]) || Number.isNaN(Date.parse(String(parts[0]))))
          throw badInput('Invalid cursor', 'after');
        cursor = [String(parts[0]), String(parts[1])];
      }
      // Prisma passes `contains` into ILIKE as is: escape its wildcards so they match literally.
      const term = search?.trim().replace(/[\\%_]/g, '\\$&');
      const where = term
        ? {
            OR: [
              { name: { contains: term, mode: 'insensitive' as const } },
              { sku: { contains: term, mode: 'insensitive' as const } },
            ],
          }
        : {};
      const page = await db.product.findMany({
        where: cursor
          ? {
              AND: [
                where,
                {
                  OR: [
                    { createdAt: { lt: new Date(cursor[0]) } },
                    { createdAt: new Date(cursor[0]), id: { lt: cursor[1] } },
                  ],
                },
              ],
            }
          : where,
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: first + 1,
      });
      const totalCount = await db.product.count({ where });
      const nodes = page.slice(0, first);
      const edges = nodes.map((node) => ({ cursor: encodeCursor([node.createdAt.toISOString(), node.id]), node }));
      return {
        edges,
        totalCount,
        pageInfo: { hasNextPage: page.length > first, endCursor: edges.at(-1)?.cursor ?? null },
      };
    },

    async create(input: CreateProductInput): Promise<Product> {
      const check = validateCreateProduct(input, maxPriceCents);
      if (!check.ok) throw badInput(check.message, check.field);
      const v = check.value;
      try {
        return await db.product.create({
          data: {
            id: randomUUID(),
            sku: v.sku,
            name: v.name,
            description: v.description,
            priceCents: v.priceCents,
            available: v.initialStock,
            stocked: v.initialStock,
            lowStockThreshold: v.lowStockThreshold,
          },
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw badInput(`A product with SKU ${v.sku} exists already`, 'sku');
        throw err;
      }
    },

    async restock(productId: string, quantity: number, reason?: string | null): Promise<Product> {
      if (!isUuid(productId)) throw badInput('productId is not a valid id', 'productId');
      const check = validateRestock(quantity, reason);
      if (!check.ok) throw badInput(check.message, check.field);
      return db.$transaction(async (tx) => {
        const updated = await tx.product.updateManyAndReturn({
          where: { id: productId },
          data: { available: { increment: check.value.quantity }, stocked: { increment: check.value.quantity } },
        });
        if (updated.length === 0) throw notFound('Product not found');
        await tx.stockMovement.create({
          data: { productId, type: 'RESTOCK', quantity: check.value.quantity, reason: check.value.reason },
        });
        return updated[0];
      });
    },

    async movements(productId: string, first: number) {
      if (!isPageSize(first)) throw badInput('first must be an integer from 0 to 100', 'first');
      return db.stockMovement.findMany({ where: { productId }, orderBy: { id: 'desc' }, take: first });
    },

    async checkAvailability(items: { productId: string; quantity: number }[]) {
      if (items.length === 0 || items.length > 50) throw badInput('items must have 1 to 50 lines', 'items');
      for (const [i, item] of items.entries()) {
        if (!isUuid(item.productId)) throw badInput('productId is not a valid id', `items[${i}].productId`);
        if (!Number.isInteger(item.quantity) || item.quantity < 1 || item.quantity > 1000)
          throw badInput('quantity must be an integer from 1 to 1000', `items[${i}].quantity`);
      }
      const rows = await db.product.findMany({
        where: { id: { in: items.map((i) => i.productId) } },
        select: { id: true, available: true, isActive: true },
      });
      const byId = new Map(rows.map((r) => [r.id, r]));
      const result = items.map((item) => {
        const row = byId.get(item.productId);
        const available = row && row.isActive ? row.available : 0;
        return {
          productId: item.productId,
          requested: item.quantity,
          available,
          isAvailable: available >= item.quantity,
        };
      });
      return { allAvailable: result.every((r) => r.isAvailable), items: result };
    },
  };
}
export type CatalogService = ReturnType<typeof createCatalogService>;
