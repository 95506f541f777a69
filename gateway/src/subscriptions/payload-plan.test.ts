import {
  GraphQLError,
  Kind,
  buildSchema,
  execute,
  parse,
  type ExecutionResult,
  type FieldNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import type { HubEvent } from './event-hub.ts';
import { parseSubscription } from './operation.ts';
import { createPayloadPlan, createPreparedCache, selectionVariables } from './payload-plan.ts';

/** A slice of the API schema, executable: the "gateway" these plans fetch from. */
const schema = buildSchema(`
  scalar DateTime
  enum OrderStatus { PENDING_PAYMENT PENDING_SHIPMENT SHIPPED }
  type Query {
    order(id: ID!): Order
    orderStatusChange(id: ID!): OrderStatusChange
    lowStockAlert(productId: ID!, availableQuantity: Int!, threshold: Int!, occurredAt: DateTime!): LowStockAlert
  }
  type Subscription {
    orderStatusChanged(orderId: ID!, after: String): OrderStatusChange!
    myOrderUpdates(after: String): OrderStatusChange!
    lowStockAlerts(after: String): LowStockAlert!
  }
  type OrderStatusChange { orderId: ID! previousStatus: OrderStatus status: OrderStatus! reason: String occurredAt: DateTime! order: Order! }
  type Order { id: ID! status: OrderStatus! items: [Item!]! secret: String }
  type Item { quantity: Int! product: Product! }
  type Product { id: ID! name: String! }
  type LowStockAlert { product: Product! availableQuantity: Int! threshold: Int! occurredAt: DateTime! }
`);

const ORDER = { id: 'o1', status: 'PENDING_SHIPMENT', items: [{ quantity: 2, product: { id: 'p1', name: 'Teapot' } }] };
const ROW = {
  orderId: 'o1',
  previousStatus: 'PENDING_PAYMENT',
  status: 'PENDING_SHIPMENT',
  reason: 'paid',
  occurredAt: '2026-12-04T10:00:00.123Z',
};

/** Answers as the gateway would, counting the calls and keeping the texts. */
function gatewayStub({ secretError = false, visible = true } = {}) {
  const calls: string[] = [];
  /** The variables of each call. */
  const sent: Record<string, unknown>[] = [];
  const order = {
    ...ORDER,
    secret: () => {
      if (secretError) throw new GraphQLError('Missing scope', { extensions: { code: 'FORBIDDEN' } });
      return 's';
    },
  };
  const root = {
    order: ({ id }: { id: string }) => (visible && id === ORDER.id ? order : null),
    orderStatusChange: () => (visible ? { ...ROW, order } : null),
  };
  return {
    calls,
    sent,
    fetch: async (query: string, variables: Record<string, unknown>): Promise<ExecutionResult> => {
      calls.push(query);
      sent.push(variables);
      const r = (await execute({
        schema,
        document: parse(query),
        variableValues: variables,
        rootValue: root,
      })) as ExecutionResult;
      // As the gateway sends it: plain JSON.
      return JSON.parse(JSON.stringify(r)) as ExecutionResult;
    },
  };
}

const event = (data: Record<string, unknown> = {}): HubEvent => ({
  seq: 7,
  event: {
    id: 'e1',
    type: 'orders.status_changed',
    version: 1,
    occurredAt: '2026-12-04T10:00:00.130Z', // the envelope's time: a few ms after the row's
    source: 'orders',
    correlationId: 'o1',
    causationId: null,
    traceparent: null,
    data: {
      orderId: 'o1',
      customerId: 'c1',
      previousStatus: 'PENDING_PAYMENT',
      status: 'PENDING_SHIPMENT',
      reason: 'paid',
      changeId: '9',
      ...data,
    },
  },
});

function planFor(text: string) {
  const document = parse(text);
  const parsed = parseSubscription(document);
  if (typeof parsed === 'string') throw new Error(parsed);
  return { plan: createPayloadPlan(schema, document, parsed), parsed };
}

/** The payload-level fields a query asks for (inline fragments included), sorted. */
function payloadLevel(query: string): string[] {
  const op = parse(query).definitions[0] as OperationDefinitionNode;
  const names: string[] = [];
  const walk = (set: SelectionSetNode) => {
    for (const sel of set.selections)
      if (sel.kind === Kind.FIELD) names.push(sel.name.value);
      else if (sel.kind === Kind.INLINE_FRAGMENT) walk(sel.selectionSet);
  };
  walk((op.selectionSet.selections[0] as FieldNode).selectionSet!);
  return names.sort();
}

/** The payload as before this plan: the whole payload query through the gateway. */
async function wholeQuery(text: string, client: Record<string, unknown> = {}) {
  const { plan } = planFor(text);
  const stub = gatewayStub();
  const vars = plan.variables(selectionVariables(plan, client), { id: '9' });
  const { calls } = stub;
  // `fetched` with an event that carries nothing asks for everything.
  const bare = event();
  bare.event.data = { changeId: '9' };
  const r = await plan.fetched(bare, vars, stub.fetch);
  expect(calls).toHaveLength(1);
  return r;
}

describe('payload plans', () => {
  it('computes a selection the event covers from the event alone, as the whole query would answer it', async () => {
    const text = `subscription { myOrderUpdates { __typename orderId s: status previousStatus ... on OrderStatusChange { reason } } }`;
    const { plan } = planFor(text);
    const e = event();
    expect(plan.needsFetch(e)).toBe(false);
    const local = plan.local(e, plan.variables({}, { id: '9' }));
    expect(local).toEqual(await wholeQuery(text));
  });

  it('fetches occurredAt unless the event carries the status row’s own time', () => {
    const { plan } = planFor(`subscription { myOrderUpdates { status occurredAt } }`);
    expect(plan.needsFetch(event())).toBe(true);
    const e = event({ occurredAt: ROW.occurredAt });
    expect(plan.needsFetch(e)).toBe(false);
    expect(plan.local(e, plan.variables({}, { id: '9' })).data).toEqual({
      myOrderUpdates: { status: 'PENDING_SHIPMENT', occurredAt: ROW.occurredAt },
    });
  });

  it('fetches only the fields the event lacks, and merges them with aliases, fragments and @include as the whole query', async () => {
    const text = `subscription W($items: Boolean!) {
      live: orderStatusChanged(orderId: "o1") {
        st: status
        ...Change
        o: order { id items @include(if: $items) { quantity product { name } } }
        again: order { status }
      }
    }
    fragment Change on OrderStatusChange { previousStatus occurredAt order { id } }`;
    const { plan } = planFor(text);
    const stub = gatewayStub();
    const client = selectionVariables(plan, { items: true, unused: 1 });
    expect(client).toEqual({ items: true });
    const merged = await plan.fetched(event(), plan.variables(client, { id: '9' }), stub.fetch);
    expect(stub.calls).toHaveLength(1);
    // No event field in what was fetched; occurredAt is (this event lacks the row's time).
    expect(payloadLevel(stub.calls[0])).toEqual(['occurredAt', 'order', 'order', 'order']);
    expect(merged).toEqual(await wholeQuery(text, { items: true }));
    expect(merged.data).toEqual({
      live: {
        st: 'PENDING_SHIPMENT',
        previousStatus: 'PENDING_PAYMENT',
        occurredAt: ROW.occurredAt,
        order: { id: 'o1' },
        o: { id: 'o1', items: [{ quantity: 2, product: { name: 'Teapot' } }] },
        again: { status: 'PENDING_SHIPMENT' },
      },
    });
  });

  it('fetches a federated field the event lacks from Query.order by the event’s orderId, not through the status row', async () => {
    // As the web app's order page subscribes: a variable named orderId, fragments, an alias under @include.
    const text = `subscription S($orderId: ID!, $more: Boolean!) {
      live: orderStatusChanged(orderId: $orderId) {
        orderId ...Change
        order { id status }
        ... on OrderStatusChange @include(if: $more) { o: order { items { quantity product { name } } } }
      }
    }
    fragment Change on OrderStatusChange { previousStatus status reason occurredAt }`;
    const { plan } = planFor(text);
    const client = selectionVariables(plan, { orderId: 'o1', more: true });
    const vars = plan.variables(client, { id: '9' });
    const e = event({ occurredAt: ROW.occurredAt });
    expect(plan.needsFetch(e)).toBe(true);
    const stub = gatewayStub();
    const r = await plan.fetched(e, vars, stub.fetch);
    expect(stub.calls).toHaveLength(1);
    const op = parse(stub.calls[0]).definitions[0] as OperationDefinitionNode;
    expect(op.selectionSet.selections.map((s) => (s.kind === Kind.FIELD ? s.name.value : s.kind))).toEqual([
      'order',
      Kind.INLINE_FRAGMENT,
    ]);
    expect(stub.calls[0]).not.toContain('orderStatusChange');
    expect(stub.sent[0]).toMatchObject({ orderId: 'o1', more: true });
    expect(r).toEqual(await wholeQuery(text, { orderId: 'o1', more: true }));
    expect(r.data).toEqual({
      live: {
        orderId: 'o1',
        previousStatus: 'PENDING_PAYMENT',
        status: 'PENDING_SHIPMENT',
        reason: 'paid',
        occurredAt: ROW.occurredAt,
        order: { id: 'o1', status: 'PENDING_SHIPMENT' },
        o: { items: [{ quantity: 2, product: { name: 'Teapot' } }] },
      },
    });
    // An older event (no occurredAt): the row's fields come through the projection, as before.
    const older = gatewayStub();
    expect(await plan.fetched(event(), vars, older.fetch)).toEqual(r);
    expect(older.calls).toHaveLength(1);
    expect(older.calls[0]).toContain('orderStatusChange');
  });

  it('passes the gateway’s errors on with the client’s paths, and a payload the viewer may not see as null', async () => {
    const text = `subscription { myOrderUpdates { status order { id secret } } }`;
    const { plan } = planFor(text);
    const denied = gatewayStub({ secretError: true });
    const r = await plan.fetched(event(), plan.variables({}, { id: '9' }), denied.fetch);
    expect(r.data).toEqual({ myOrderUpdates: { status: 'PENDING_SHIPMENT', order: { id: 'o1', secret: null } } });
    expect(r.errors).toMatchObject([{ message: 'Missing scope', path: ['myOrderUpdates', 'order', 'secret'] }]);

    const hidden = gatewayStub({ visible: false });
    expect(await plan.fetched(event(), plan.variables({}, { id: '9' }), hidden.fetch)).toEqual({
      data: { myOrderUpdates: null },
    });
  });

  it('keeps one prepared document per text and operation name, bounded, and starts afresh with a new schema', () => {
    const cache = createPreparedCache(2);
    const prepare = (text: string) => () => {
      const document = parse(text);
      const parsed = parseSubscription(document);
      if (typeof parsed === 'string') return [new GraphQLError(parsed)];
      return { document, parsed, plan: createPayloadPlan(schema, document, parsed) };
    };
    const a = `subscription { myOrderUpdates { status } }`;
    const first = cache.get(schema, a, null, prepare(a));
    expect(cache.get(schema, a, null, () => expect.fail('prepared again'))).toBe(first);
    const bad = `subscription { myOrderUpdates { status } } query Q { __typename }`;
    expect(Array.isArray(cache.get(schema, bad, null, prepare(bad)))).toBe(true);
    expect(cache.size).toBe(1); // refusals are not kept
    for (const t of ['subscription { myOrderUpdates { reason } }', 'subscription { myOrderUpdates { orderId } }'])
      cache.get(schema, t, null, prepare(t));
    expect(cache.size).toBe(2);
    const other = buildSchema('type Query { a: Int }');
    let prepared = 0;
    cache.get(other, a, null, () => (prepared++, first));
    expect(prepared).toBe(1);
    expect(cache.size).toBe(1);
  });
});
