import { formatCents, isTextWithin, parseCents } from '@orderflow/contracts';

export interface CreateProductInput {
  sku: string;
  name: string;
  description?: string | null;
  price: string;
  initialStock: number;
  lowStockThreshold?: number | null;
}

export interface ValidProduct {
  sku: string;
  name: string;
  description: string | null;
  priceCents: number;
  initialStock: number;
  lowStockThreshold: number;
}

export const MAX_STOCK_CHANGE = 1_000_000;
const SKU = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export type InputCheck<T> = { ok: true; value: T } | { ok: false; field: string; message: string };

/**
 * @param maxPriceCents The largest price accepted (MAX_PRICE_CENTS, default 999999.99): bounded so that
 *   no order total can overflow the money columns (see `MAX_STORABLE_CENTS`).
 */
export function validateCreateProduct(input: CreateProductInput, maxPriceCents: number): InputCheck<ValidProduct> {
  if (!SKU.test(input.sku))
    return { ok: false, field: 'sku', message: 'SKU must be 1-64 letters, digits, dots, dashes or underscores' };
  if (!isTextWithin(input.name, 1, 200)) return { ok: false, field: 'name', message: 'Name must be 1-200 characters' };
  if (input.description != null && input.description.length > 5000)
    return { ok: false, field: 'description', message: 'Description must be at most 5000 characters' };
  const priceCents = parseCents(input.price);
  if (priceCents === null || priceCents <= 0)
    return {
      ok: false,
      field: 'price',
      message: 'Price must be a positive decimal with at most two fraction digits, e.g. "19.99"',
    };
  if (priceCents > maxPriceCents)
    return { ok: false, field: 'price', message: `Price must be at most ${formatCents(maxPriceCents)}` };
  if (!Number.isInteger(input.initialStock) || input.initialStock < 0 || input.initialStock > MAX_STOCK_CHANGE)
    return {
      ok: false,
      field: 'initialStock',
      message: `Initial stock must be an integer from 0 to ${MAX_STOCK_CHANGE}`,
    };
  const threshold = input.lowStockThreshold ?? 10;
  if (!Number.isInteger(threshold) || threshold < 0 || threshold > MAX_STOCK_CHANGE)
    return {
      ok: false,
      field: 'lowStockThreshold',
      message: `Low-stock threshold must be an integer from 0 to ${MAX_STOCK_CHANGE}`,
    };
  return {
    ok: true,
    value: {
      sku: input.sku,
      name: input.name.trim(),
      description: input.description ?? null,
      priceCents,
      initialStock: input.initialStock,
      lowStockThreshold: threshold,
    },
  };
}

export function validateRestock(
  quantity: number,
  reason?: string | null,
): InputCheck<{ quantity: number; reason: string | null }> {
  if (!Number.isInteger(quantity) || quantity < 1 || quantity > MAX_STOCK_CHANGE)
    return {
      ok: false,
      field: 'quantity',
      message: `Restock quantity must be an integer from 1 to ${MAX_STOCK_CHANGE}`,
    };
  if (reason != null && reason.length > 500)
    return { ok: false, field: 'reason', message: 'Reason must be at most 500 characters' };
  return { ok: true, value: { quantity, reason: reason ?? null } };
}
