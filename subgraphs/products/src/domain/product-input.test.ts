import { describe, expect, it } from 'vitest';
import { validateCreateProduct, validateRestock } from './product-input.ts';

const base = { sku: 'MUG-01', name: 'Mug', price: '12.50', initialStock: 10 };
const MAX = 99_999_999; // 999999.99

describe('validateCreateProduct', () => {
  it('parses the price into cents', () =>
    expect(validateCreateProduct(base, MAX)).toMatchObject({
      ok: true,
      value: { priceCents: 1250, lowStockThreshold: 10 },
    }));
  it.each(['0', '0.00', '-1', '1.234', 'abc', '1e3', '', ' 5', '01.00'])('rejects price %j', (price) =>
    expect(validateCreateProduct({ ...base, price }, MAX)).toMatchObject({ ok: false, field: 'price' }),
  );
  it('accepts the maximum price and refuses a cent more, with the bound in the message', () => {
    expect(validateCreateProduct({ ...base, price: '999999.99' }, MAX)).toMatchObject({
      ok: true,
      value: { priceCents: 99_999_999 },
    });
    expect(validateCreateProduct({ ...base, price: '1000000.00' }, MAX)).toEqual({
      ok: false,
      field: 'price',
      message: 'Price must be at most 999999.99',
    });
  });
  it('rejects negative or fractional stock, bad SKUs and long names', () => {
    expect(validateCreateProduct({ ...base, initialStock: -1 }, MAX)).toMatchObject({ field: 'initialStock' });
    expect(validateCreateProduct({ ...base, initialStock: 1.5 }, MAX)).toMatchObject({ field: 'initialStock' });
    expect(validateCreateProduct({ ...base, sku: 'has space' }, MAX)).toMatchObject({ field: 'sku' });
    expect(validateCreateProduct({ ...base, name: 'x'.repeat(201) }, MAX)).toMatchObject({ field: 'name' });
    expect(validateCreateProduct({ ...base, lowStockThreshold: -2 }, MAX)).toMatchObject({
      field: 'lowStockThreshold',
    });
  });
});

describe('validateRestock', () => {
  it('needs a positive integer', () => {
    expect(validateRestock(5)).toMatchObject({ ok: true });
    expect(validateRestock(0)).toMatchObject({ ok: false, field: 'quantity' });
    expect(validateRestock(-3)).toMatchObject({ ok: false, field: 'quantity' });
  });
});
