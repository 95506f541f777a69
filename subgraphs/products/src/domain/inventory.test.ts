import { describe, expect, it } from 'vitest';
import { decideReservation } from './inventory.ts';

const row = (id: string, available: number, isActive = true) => ({ id, available, isActive, lowStockThreshold: 10 });

describe('decideReservation', () => {
  it('accepts when every line fits', () =>
    expect(
      decideReservation(
        [
          { productId: 'a', quantity: 5 },
          { productId: 'b', quantity: 1 },
        ],
        [row('a', 5), row('b', 9)],
      ),
    ).toEqual({ kind: 'ok' }));

  it('lists every short line with what is available', () =>
    expect(
      decideReservation(
        [
          { productId: 'a', quantity: 6 },
          { productId: 'b', quantity: 1 },
          { productId: 'c', quantity: 3 },
        ],
        [row('a', 5), row('b', 9), row('c', 0)],
      ),
    ).toEqual({
      kind: 'short',
      items: [
        { productId: 'a', requested: 6, available: 5 },
        { productId: 'c', requested: 3, available: 0 },
      ],
    }));

  it('refuses unknown and inactive products, naming the line', () => {
    expect(
      decideReservation(
        [
          { productId: 'a', quantity: 1 },
          { productId: 'zz', quantity: 1 },
        ],
        [row('a', 5)],
      ),
    ).toEqual({ kind: 'unknown-product', index: 1, productId: 'zz' });
    expect(decideReservation([{ productId: 'a', quantity: 1 }], [row('a', 5, false)])).toMatchObject({
      kind: 'unknown-product',
      index: 0,
    });
  });
});
