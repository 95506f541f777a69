import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSubgraphDedup } from './subgraph-dedup.ts';
import { createSubgraphFetcher } from './subgraph-http.ts';

/**
 * A real HTTP subgraph stand-in that counts the calls it receives and, while
 * holding, keeps every answer back until the test releases them, so "in
 * flight" is certain. Not holding, it answers at once.
 */
function startHeldServer() {
  const held: { req: IncomingMessage; res: ServerResponse; body: string }[] = [];
  let calls = 0;
  let holding = false;
  let onCall: () => void = () => {};
  const answer = (how: 'answer' | 'drop', { req, res, body }: (typeof held)[number]) => {
    if (how === 'drop') return void req.socket.destroy();
    res
      .setHeader('content-type', 'application/json')
      .end(JSON.stringify({ data: { echo: body, token: req.headers['x-internal-token'] ?? null } }));
  };
  let mode: 'answer' | 'drop' = 'answer';
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      calls++;
      if (holding) held.push({ req, res, body });
      else answer(mode, { req, res, body });
      onCall();
    });
  });
  return {
    server,
    get calls() {
      return calls;
    },
    hold() {
      holding = true;
    },
    /** Resolves once `n` calls have arrived in total, or after `ms` whatever arrived. */
    waitForCalls(n: number, ms = 5_000) {
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        onCall = () => calls >= n && (clearTimeout(timer), resolve());
        onCall();
      });
    },
    /** Answers every held call (and any that arrives later) with its body echoed back, or drops the connection. */
    release(how: 'answer' | 'drop' = 'answer') {
      holding = false;
      mode = how;
      for (const h of held.splice(0)) answer(how, h);
    },
  };
}

describe('in-flight deduplication of subgraph fetches', () => {
  const subgraph = startHeldServer();
  let url = '';
  const http = createSubgraphFetcher({ timeoutMs: 10_000 });
  const shared: string[] = [];
  const dedup = createSubgraphDedup({ enabled: true, onShared: (s) => shared.push(s) });
  const fetcher = dedup.wrap('orders', http);

  beforeAll(async () => {
    await new Promise<void>((r) => subgraph.server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(subgraph.server.address() as AddressInfo).port}/graphql`;
  });
  afterAll(async () => {
    http.close();
    subgraph.server.closeAllConnections();
    await new Promise((r) => subgraph.server.close(r));
  });
  beforeEach(() => {
    shared.splice(0);
  });

  const QUERY = 'query Order__orders__0($id: ID!) { order(id: $id) { id status } }';
  const post = (
    body: Record<string, unknown>,
    headers: Record<string, string> = {},
    f = fetcher,
  ): ReturnType<typeof fetcher> =>
    f(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-internal-token': 'viewer-a', ...headers },
      body: JSON.stringify(body),
    });

  /**
   * Starts the fetches together while the subgraph holds its answers, waits
   * for the calls expected (a little longer for any extra), releases them,
   * and returns how many calls were made in all and what each fetch got.
   */
  async function run(fetches: (() => ReturnType<typeof fetcher>)[], calls: number, how: 'answer' | 'drop' = 'answer') {
    const before = subgraph.calls;
    subgraph.hold();
    const settled = Promise.allSettled(
      fetches.map((f) => f().then(async (r) => (await r.json()) as Record<string, any>)),
    );
    await subgraph.waitForCalls(before + calls);
    await new Promise((r) => setTimeout(r, 50));
    subgraph.release(how);
    const results = await settled;
    return { made: subgraph.calls - before, results };
  }

  it('identical query fetches in flight make one call; every waiter gets the answer as its own object', async () => {
    const { made, results } = await run(
      Array.from({ length: 10 }, () => () => post({ query: QUERY, variables: { id: 'o-1' } })),
      1,
    );
    expect(made).toBe(1);
    expect(shared).toEqual(Array(9).fill('orders'));
    const values = results.map((r) => (r.status === 'fulfilled' ? r.value : null));
    for (const v of values) expect(v?.data.echo).toBe(JSON.stringify({ query: QUERY, variables: { id: 'o-1' } }));
    // Parsed once per waiter: a request that changes its result changes no one else's.
    expect(new Set(values.map((v) => v?.data)).size).toBe(10);
    expect(dedup.inFlight).toBe(0);
  });

  it('fetches for different viewers, variables, documents or subgraphs never share', async () => {
    const other = dedup.wrap('shipments', http);
    const { made, results } = await run(
      [
        () => post({ query: QUERY, variables: { id: 'o-1' } }),
        () => post({ query: QUERY, variables: { id: 'o-1' } }, { 'x-internal-token': 'viewer-b' }),
        () => post({ query: QUERY, variables: { id: 'o-2' } }),
        () => post({ query: QUERY.replace('status', 'createdAt'), variables: { id: 'o-1' } }),
        () => post({ query: QUERY, variables: { id: 'o-1' } }, {}, other),
      ],
      5,
    );
    expect(made).toBe(5);
    expect(shared).toEqual([]);
    // Each got the answer to its own call: viewer B's answer was made for B's token.
    const tokens = results.map((r) => (r.status === 'fulfilled' ? r.value.data.token : null));
    expect(tokens).toEqual(['viewer-a', 'viewer-b', 'viewer-a', 'viewer-a', 'viewer-a']);
  });

  it('callers differing only in trace context or client address share', async () => {
    const { made } = await run(
      [
        () =>
          post(
            { query: QUERY, variables: { id: 'o-3' } },
            { traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01` },
          ),
        () =>
          post(
            { query: QUERY, variables: { id: 'o-3' } },
            { traceparent: `00-${'3'.repeat(32)}-${'4'.repeat(16)}-01` },
          ),
        () => post({ query: QUERY, variables: { id: 'o-3' } }, { 'x-client-address': '203.0.113.9' }),
      ],
      1,
    );
    expect(made).toBe(1);
  });

  it('never shares a mutation, nor a document it cannot tell is one query', async () => {
    const MUTATION = 'mutation Cancel__orders__0($id: ID!) { cancelOrder(orderId: $id) { __typename } }';
    const TWO = `${QUERY} mutation M { cancelOrder(orderId: "x") { __typename } }`;
    const { made } = await run(
      [
        () => post({ query: MUTATION, variables: { id: 'o-1' } }),
        () => post({ query: MUTATION, variables: { id: 'o-1' } }),
        () => post({ query: TWO, variables: { id: 'o-1' }, operationName: 'Order__orders__0' }),
        () => post({ query: TWO, variables: { id: 'o-1' }, operationName: 'Order__orders__0' }),
        () => post({ query: '{ not valid', variables: {} }),
        () => post({ query: '{ not valid', variables: {} }),
      ],
      6,
    );
    expect(made).toBe(6);
    expect(shared).toEqual([]);
  });

  it('the shorthand query form is a query and shares', async () => {
    const { made } = await run(
      [() => post({ query: '{ products { id } }' }), () => post({ query: '{ products { id } }' })],
      1,
    );
    expect(made).toBe(1);
  });

  it('a failing call fails every waiter, and the next fetch makes a new call (nothing is kept)', async () => {
    const { made, results } = await run(
      Array.from({ length: 5 }, () => () => post({ query: QUERY, variables: { id: 'o-9' } })),
      1,
      'drop',
    );
    expect(made).toBe(1);
    expect(results.map((r) => r.status)).toEqual(Array(5).fill('rejected'));
    expect(dedup.inFlight).toBe(0);
    // After the failure: a call of its own, which succeeds.
    const again = await run([() => post({ query: QUERY, variables: { id: 'o-9' } })], 1);
    expect(again.made).toBe(1);
    expect(again.results[0].status).toBe('fulfilled');
    // After a success too: the answer is not kept either.
    const third = await run([() => post({ query: QUERY, variables: { id: 'o-9' } })], 1);
    expect(third.made).toBe(1);
  });

  it('switched off, identical fetches each make their own call', async () => {
    const off = createSubgraphDedup({ enabled: false, onShared: (s) => shared.push(s) }).wrap('orders', http);
    const { made } = await run(
      Array.from({ length: 4 }, () => () => post({ query: QUERY, variables: { id: 'o-1' } }, {}, off)),
      4,
    );
    expect(made).toBe(4);
    expect(shared).toEqual([]);
  });
});
