import { describe, expect, it } from 'vitest';
import { validateCreateProduct, validateRestock } from './product-input.ts';

const base = { sku: 'MUG-01', name: 'Mug', price: '12.50', initialStock: 10 };

describe('validateCreateProduct', () => {
  it('parses the price into cents', () =>
    expect(validateCreateProduct(base)).toMatchObject({
      ok: true,
      value: { priceCents: 1250, lowStockThreshold: 10 },
    }));
  it.each(['0', '0.00', '-1', '1.234', 'abc', '1e3', '', ' 5', '01.00'])('rejects price %j', (price) =>
    expect(validateCreateProduct({ ...base, price })).toMatchObject({ ok: false, field: 'price' }),
  );
  it('rejects negative or fractional stock, bad SKUs and long names', () => {
    expect(validateCreateProduct({ ...base, initialStock: -1 })).toMatchObject({ field: 'initialStock' });
    expect(validateCreateProduct({ ...base, initialStock: 1.5 })).toMatchObject({ field: 'initialStock' });
    expect(validateCreateProduct({ ...base, sku: 'has space' })).toMatchObject({ field: 'sku' });
    expect(validateCreateProduct({ ...base, name: 'x'.repeat(201) })).toMatchObject({ field: 'name' });
    expect(validateCreateProduct({ ...base, lowStockThreshold: -2 })).toMatchObject({ field: 'lowStockThreshold' });
  });
});

describe('validateRestock', () => {
  it('needs a positive integer', () => {
    expect(validateRestock(5)).toMatchObject({ ok: true });
    expect(validateRestock(0)).toMatchObject({ ok: false, field: 'quantity' });
    expect(validateRestock(-3)).toMatchObject({ ok: false, field: 'quantity' });
  });
});
