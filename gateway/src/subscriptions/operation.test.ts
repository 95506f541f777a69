import { buildSchema, parse, validate, type GraphQLSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { argument, createPayloadQuery, parseSubscription } from './operation.ts';

/** The slice of the API schema the payload queries touch. */
const schema: GraphQLSchema = buildSchema(`
  scalar DateTime
  type Query {
    orderStatusChange(id: ID!): OrderStatusChange
    lowStockAlert(productId: ID!, availableQuantity: Int!, threshold: Int!, occurredAt: DateTime!): LowStockAlert
  }
  type Subscription {
    orderStatusChanged(orderId: ID!, after: String): OrderStatusChange!
    myOrderUpdates(after: String): OrderStatusChange!
    lowStockAlerts(after: String): LowStockAlert!
  }
  type OrderStatusChange { previousStatus: String status: String! order: Order! }
  type Order { id: ID! items: [Item!]! }
  type Item { quantity: Int! }
  type LowStockAlert { availableQuantity: Int! threshold: Int! occurredAt: DateTime! }
`);

function payloadFor(text: string, variables?: Record<string, unknown>, operationName?: string) {
  const doc = parse(text);
  const parsed = parseSubscription(doc, operationName);
  if (typeof parsed === 'string') throw new Error(parsed);
  return { parsed, payload: createPayloadQuery(schema, doc, parsed, variables) };
}

describe('subscription payload queries', () => {
  it('keeps alias, selection, fragments and directives; the event comes in as a variable; unused variables go', () => {
    const { parsed, payload } = payloadFor(
      `subscription Watch($id: ID!, $withItems: Boolean!) {
        live: orderStatusChanged(orderId: $id) { status ...O items: order { items @include(if: $withItems) { quantity } } }
      }
      fragment O on OrderStatusChange { previousStatus }`,
      { id: 'abc', withItems: true },
      'Watch',
    );
    expect(argument(parsed, 'orderId', { id: 'abc' })).toBe('abc');
    const q = payload.query;
    // The client's $id (the order) is not the projection's id (the status change): a fresh name.
    expect(q).toContain('query Watch($withItems: Boolean!, $id_2: ID!)');
    expect(q).toContain('live: orderStatusChange(id: $id_2)');
    expect(q).toContain('@include(if: $withItems)');
    expect(q).toContain('fragment O on OrderStatusChange');
    expect(validate(schema, parse(q))).toEqual([]);
    expect(payload.variables({ id: 'change-42' })).toEqual({ withItems: true, id_2: 'change-42' });
  });

  it('is the same text for every event: only the variables change', () => {
    const { payload } = payloadFor(`subscription { lowStockAlerts { availableQuantity threshold } }`);
    expect(payload.query).toBe(
      'query ($productId: ID!, $availableQuantity: Int!, $threshold: Int!, $occurredAt: DateTime!) {\n' +
        '  lowStockAlerts: lowStockAlert(\n    productId: $productId\n    availableQuantity: $availableQuantity\n    threshold: $threshold\n    occurredAt: $occurredAt\n  ) {\n' +
        '    availableQuantity\n    threshold\n  }\n}',
    );
    expect(validate(schema, parse(payload.query))).toEqual([]);
    const one = { productId: 'p1', availableQuantity: 9, threshold: 10, occurredAt: '2026-01-01T00:00:00.000Z' };
    expect(payload.variables(one)).toEqual(one);
    expect(payload.variables({ ...one, productId: 'p2' })).toEqual({ ...one, productId: 'p2' });
  });

  it("leaves a client variable with a default to its default, and doesn't pass variables the query dropped", () => {
    const { payload } = payloadFor(
      `subscription($after: String, $with: Boolean = true) { myOrderUpdates(after: $after) { status order @include(if: $with) { id } } }`,
      { after: '7' },
    );
    expect(payload.query).toContain('query ($with: Boolean = true, $id: ID!)');
    expect(payload.variables({ id: 'c' })).toEqual({ id: 'c' });
  });

  it('refuses queries, mutations and unknown fields', () => {
    expect(parseSubscription(parse('{ products { totalCount } }'))).toMatch(/Only subscriptions/);
    expect(parseSubscription(parse('mutation { logOut(refreshToken: "x") }'))).toMatch(/Only subscriptions/);
    expect(parseSubscription(parse('subscription { nope }'))).toMatch(/Unknown subscription field/);
    expect(
      parseSubscription(
        parse('subscription A { lowStockAlerts { threshold } } subscription B { myOrderUpdates { status } }'),
      ),
    ).toMatch(/operationName/);
  });
});
