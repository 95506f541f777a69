import { describe, expect, it } from 'vitest';
import { decideReservation, lowStockCrossings } from './inventory.ts';

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

describe('lowStockCrossings', () => {
  const before = (id: string, available: number | null, lowStockThreshold: number | null = 10) => ({
    id,
    available,
    lowStockThreshold,
  });

  it('alerts for a line that takes stock from above the threshold to at or below it', () =>
    expect(
      lowStockCrossings(
        [
          { productId: 'a', quantity: 2 }, // 11 → 9
          { productId: 'b', quantity: 2 }, // 12 → 10: at the threshold counts
          { productId: 'c', quantity: 1 }, // 12 → 11: still above
          { productId: 'd', quantity: 1 }, // 10 → 9: below already
        ],
        [before('a', 11), before('b', 12), before('c', 12), before('d', 10)],
      ),
    ).toEqual([
      { productId: 'a', availableQuantity: 9, threshold: 10 },
      { productId: 'b', availableQuantity: 10, threshold: 10 },
    ]));

  it('raises none without the locked values (a reservation recorded before they were kept)', () =>
    expect(
      lowStockCrossings(
        [
          { productId: 'a', quantity: 5 },
          { productId: 'b', quantity: 5 },
          { productId: 'c', quantity: 5 },
        ],
        [before('a', null), before('b', 12, null)],
      ),
    ).toEqual([]));
});
