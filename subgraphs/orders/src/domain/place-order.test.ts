import { describe, expect, it } from 'vitest';
import { requestHash, validatePlaceOrder, type PlaceOrderInput } from './place-order.ts';

const P1 = '3f1a0c2e-6b7d-4c9e-8f00-000000000001';
const P2 = '3f1a0c2e-6b7d-4c9e-8f00-000000000002';

const build = (o: Partial<PlaceOrderInput> = {}): PlaceOrderInput => ({
  idempotencyKey: 'order-key-0001',
  items: [{ productId: P1, quantity: 2 }],
  shippingAddress: { name: 'Ada', line1: '1 Main St', city: 'Paris', postalCode: '75001', country: 'FR' },
  paymentToken: 'tok_visa',
  ...o,
});
const field = (o: Partial<PlaceOrderInput>) => validatePlaceOrder(build(o))?.field;

describe('validatePlaceOrder', () => {
  it('accepts a valid order', () => expect(validatePlaceOrder(build())).toBeNull());

  it.each([
    [0, 'items[0].quantity'],
    [-1, 'items[0].quantity'],
    [1001, 'items[0].quantity'],
    [1.5, 'items[0].quantity'],
  ])('rejects quantity %s', (quantity, expected) =>
    expect(field({ items: [{ productId: P1, quantity }] })).toBe(expected),
  );

  it('rejects empty and oversized item lists', () => {
    expect(field({ items: [] })).toBe('items');
    const many = Array.from({ length: 51 }, (_, i) => ({
      productId: `3f1a0c2e-6b7d-4c9e-8f00-${String(i).padStart(12, '0')}`,
      quantity: 1,
    }));
    expect(field({ items: many })).toBe('items');
    expect(field({ items: many.slice(0, 50) })).toBeUndefined();
  });

  it('rejects the same product twice, whatever its case', () =>
    expect(
      field({
        items: [
          { productId: P1, quantity: 1 },
          { productId: P1.toUpperCase(), quantity: 1 },
        ],
      }),
    ).toBe('items[1].productId'));

  it('rejects a malformed product id', () =>
    expect(field({ items: [{ productId: 'not-an-id', quantity: 1 }] })).toBe('items[0].productId'));

  it.each(['short', 'x'.repeat(129), 'with\nnewline'])('rejects idempotency key %j', (idempotencyKey) =>
    expect(field({ idempotencyKey })).toBe('idempotencyKey'),
  );

  it('accepts keys of 8 and 128 characters', () => {
    expect(field({ idempotencyKey: 'x'.repeat(8) })).toBeUndefined();
    expect(field({ idempotencyKey: 'x'.repeat(128) })).toBeUndefined();
  });

  it.each([
    [{ name: '' }, 'shippingAddress.name'],
    [{ line1: '   ' }, 'shippingAddress.line1'],
    [{ city: 'x'.repeat(101) }, 'shippingAddress.city'],
    [{ postalCode: '' }, 'shippingAddress.postalCode'],
    [{ line2: 'x'.repeat(201) }, 'shippingAddress.line2'],
    [{ country: 'France' }, 'shippingAddress.country'],
    [{ country: 'fr' }, 'shippingAddress.country'],
    [{ country: 'XX' }, 'shippingAddress.country'],
  ])('rejects address %j', (patch, expected) =>
    expect(field({ shippingAddress: { ...build().shippingAddress, ...patch } })).toBe(expected),
  );

  it('rejects an empty or oversized payment token', () => {
    expect(field({ paymentToken: '' })).toBe('paymentToken');
    expect(field({ paymentToken: 't'.repeat(101) })).toBe('paymentToken');
  });
});

describe('requestHash', () => {
  it('is the same for the same order with lines in another order', () => {
    const a = build({
      items: [
        { productId: P1, quantity: 1 },
        { productId: P2, quantity: 2 },
      ],
    });
    const b = build({
      items: [
        { productId: P2, quantity: 2 },
        { productId: P1, quantity: 1 },
      ],
    });
    expect(requestHash(a)).toBe(requestHash(b));
  });
  it('differs when a quantity, the address or the payment token differs', () => {
    const base = requestHash(build());
    expect(requestHash(build({ items: [{ productId: P1, quantity: 3 }] }))).not.toBe(base);
    expect(requestHash(build({ paymentToken: 'tok_chargeDeclined' }))).not.toBe(base);
    expect(requestHash(build({ shippingAddress: { ...build().shippingAddress, city: 'Lyon' } }))).not.toBe(base);
  });
});
