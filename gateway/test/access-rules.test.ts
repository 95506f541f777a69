import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { readAccessRules, type AccessRule } from '@orderflow/common/server';
import { SUBGRAPHS, subgraphSdlPath } from '../src/compose.ts';

/**
 * The public API contract's access marks (its reference: schema/api.graphql), as the subgraph
 * SDLs must declare them: the directives are what the subgraphs enforce, so
 * a field that loses its directive loses its protection — this test notices.
 */
const authenticated: AccessRule = { authenticated: true, scopes: [] };
const scope = (s: string): AccessRule => ({ authenticated: false, scopes: [[[s]]] });

const CONTRACT: Record<string, AccessRule | null> = {
  'Query.me': null,
  'Query.product': null,
  'Query.products': null,
  'Query.checkAvailability': null,
  'Query.order': authenticated, // owner, or orders:read:all (ownership in the service)
  'Query.myOrders': scope('orders:read'),
  'Query.orders': scope('orders:read:all'),
  'Query.businessMetrics': scope('orders:read:all'),
  'Mutation.cancelOrderAsOperator': scope('orders:cancel:any'), // same rules as cancelOrder, any owner
  'Mutation.replayDeadLetter': scope('dlq:replay'),
  'Query.shipment': authenticated, // the order's owner, or shipments:read with orders:read:all (in the service)
  'Mutation.signUp': null,
  'Mutation.logIn': null,
  'Mutation.refreshToken': null,
  'Mutation.logOut': authenticated,
  'Mutation.createProduct': scope('products:write'),
  'Mutation.restockProduct': scope('inventory:write'),
  'Mutation.placeOrder': scope('orders:create'),
  'Mutation.cancelOrder': scope('orders:cancel'), // and the owner (in the service)
  'Mutation.updateShipmentStatus': scope('shipments:write'),
  'Product.stockMovements': scope('inventory:read'),
  'Subscription.orderStatusChanged': authenticated,
  'Subscription.myOrderUpdates': scope('orders:read'),
  'Subscription.lowStockAlerts': scope('inventory:read'),
};

describe('access rules in the subgraph schemas', () => {
  const declared = new Map<string, AccessRule>();
  const defined = new Set<string>();
  for (const { name } of SUBGRAPHS) {
    const doc = parse(readFileSync(subgraphSdlPath(name), 'utf8'));
    for (const [coordinate, rule] of readAccessRules(doc)) declared.set(coordinate, rule);
    for (const def of doc.definitions)
      if ('fields' in def && 'name' in def)
        for (const f of def.fields ?? []) defined.add(`${def.name!.value}.${f.name.value}`);
  }

  it.each(Object.entries(CONTRACT).filter(([c]) => defined.has(c)))(
    '%s is guarded as the contract says',
    (coordinate, rule) => {
      expect(declared.get(coordinate) ?? null).toEqual(rule);
    },
  );

  it('declares every field of the contract that exists in a subgraph', () => {
    const missing = Object.keys(CONTRACT).filter((c) => !defined.has(c) && !c.startsWith('Subscription.'));
    expect(missing).toEqual([]);
  });
});
