import { parse, print } from 'graphql';
import { describe, expect, it } from 'vitest';
import { argument, parseSubscription, payloadQuery } from './operation.ts';

describe('subscription payload queries', () => {
  it('keeps alias, selection, fragments and directives; drops unused variables', () => {
    const doc = parse(`subscription Watch($id: ID!, $withItems: Boolean!) {
      live: orderStatusChanged(orderId: $id) { status ...O items: order { items @include(if: $withItems) { quantity } } }
    }
    fragment O on OrderStatusChange { previousStatus }`);
    const parsed = parseSubscription(doc, 'Watch');
    if (typeof parsed === 'string') throw new Error(parsed);
    expect(argument(parsed, 'orderId', { id: 'abc' })).toBe('abc');
    const q = print(payloadQuery(doc, parsed, { id: '42' }));
    expect(q).toContain('query Watch($withItems: Boolean!)');
    expect(q).toContain('live: orderStatusChange(id: "42")');
    expect(q).toContain('@include(if: $withItems)');
    expect(q).toContain('fragment O on OrderStatusChange');
    expect(q).not.toContain('$id');
  });

  it('refuses queries, mutations and unknown fields', () => {
    expect(parseSubscription(parse('{ products { totalCount } }'))).toMatch(/Only subscriptions/);
    expect(parseSubscription(parse('mutation { logOut(refreshToken: "x") }'))).toMatch(/Only subscriptions/);
    expect(parseSubscription(parse('subscription { nope }'))).toMatch(/Unknown subscription field/);
    expect(parseSubscription(parse('subscription A { lowStockAlerts { threshold } } subscription B { myOrderUpdates { status } }'))).toMatch(/operationName/);
  });
});
