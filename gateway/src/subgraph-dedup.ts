import { Kind, OperationTypeNode, parse } from 'graphql';
import type { Fetcher } from './subgraph-http.ts';

type FetcherInit = NonNullable<Parameters<Fetcher>[1]>;
type FetcherResponse = Awaited<ReturnType<Fetcher>>;

/**
 * Forwarded headers that do not change what a subgraph answers to a query,
 * left out of the key so that callers who differ only in them still share:
 *
 * - `traceparent`, `tracestate`, `baggage`: the request's trace context (a
 *   shared call carries the first caller's; the others' traces show the wait).
 * - `x-client-address` (CLIENT_ADDRESS_HEADER): read only by the auth
 *   subgraph's `signUp` and `logIn` mutations (its log-in throttle), which are
 *   never shared. A query that ever reads the client's address must take this
 *   header out of the list.
 *
 * Every other header the gateway sends is part of the key, above all the
 * internal token (`x-internal-token`), which carries the viewer exactly as
 * the subgraph sees it: subject, kind, client id, scopes, email, token id.
 */
const HEADERS_OUTSIDE_THE_KEY = new Set(['traceparent', 'tracestate', 'baggage', 'x-client-address']);

/** Distinct documents whose operation type is remembered (the query planner's fetches: a few hundred at most). */
const DOCUMENT_CACHE_SIZE = 2_000;

export interface SubgraphDedupOptions {
  /** Share identical query fetches while in flight (GATEWAY_DEDUP=on, the default); off: every fetch is its own call. */
  enabled: boolean;
  /** Told of every fetch answered by a call another request started (the `gateway_subgraph_fetches_shared_total` metric). */
  onShared?: (subgraph: string) => void;
}

/**
 * In-flight deduplication of subgraph fetches. Identical query fetches to the
 * same subgraph — same URL, same body (document, variables, operation name),
 * same forwarded headers but those in HEADERS_OUTSIDE_THE_KEY, so the same
 * viewer with the same scopes — started while an earlier one is still
 * waiting for its answer, wait for that one call instead of making their own.
 *
 * - Only queries: the operation type is read from the document sent to the
 *   subgraph (a client's mutation plans query fetches too, which may share;
 *   a mutation fetch never does). A document that does not parse, holds
 *   several operations or anything but one query is never shared.
 * - Nothing outlives the call: the entry is removed the moment its answer or
 *   failure arrives, before any waiter resumes. This is not a cache; a fetch
 *   that starts after the answer makes a new call.
 * - A failing call (no answer, timeout) fails every waiter with the same
 *   error; each waiter turns it into its own SERVICE_UNAVAILABLE.
 * - Every waiter gets its own copy of the response (`clone()`), parsed on
 *   its own: no two requests share a mutable result object.
 * - A fetch with an abort signal is never shared (one caller's abort must
 *   not end another's call).
 */
export function createSubgraphDedup({ enabled, onShared }: SubgraphDedupOptions) {
  const inFlight = new Map<string, Promise<FetcherResponse>>();
  const operationTypes = new Map<string, OperationTypeNode | null>();

  function operationTypeOf(document: string): OperationTypeNode | null {
    let type = operationTypes.get(document);
    if (type !== undefined) return type;
    type = null;
    try {
      const definitions = parse(document, { noLocation: true }).definitions;
      const operations = definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
      if (operations.length === 1) type = operations[0].operation;
    } catch {
      // Not a document we can read: never shared.
    }
    if (operationTypes.size >= DOCUMENT_CACHE_SIZE) operationTypes.clear();
    operationTypes.set(document, type);
    return type;
  }

  /** The key of a shareable fetch; null when this fetch must be a call of its own. */
  function keyOf(subgraph: string, url: string, init: FetcherInit): string | null {
    if (init.signal || typeof init.body !== 'string' || (init.method ?? 'GET').toUpperCase() !== 'POST') return null;
    let query: unknown;
    try {
      query = (JSON.parse(init.body) as { query?: unknown } | null)?.query;
    } catch {
      return null;
    }
    if (typeof query !== 'string' || operationTypeOf(query) !== OperationTypeNode.QUERY) return null;
    const kept = Object.entries(init.headers ?? {})
      .map(([name, value]) => [name.toLowerCase(), value] as const)
      .filter(([name]) => !HEADERS_OUTSIDE_THE_KEY.has(name))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    // JSON keeps the parts apart whatever they contain.
    return JSON.stringify([subgraph, url, kept, init.body]);
  }

  return {
    /** `fetcher`, with identical in-flight query fetches to `subgraph` shared when enabled. */
    wrap(subgraph: string, fetcher: Fetcher): Fetcher {
      if (!enabled) return fetcher;
      return async (url, init = {}) => {
        const key = keyOf(subgraph, url, init);
        if (key === null) return fetcher(url, init);
        let call = inFlight.get(key);
        if (call) onShared?.(subgraph);
        else {
          call = fetcher(url, init).then(
            (response) => {
              inFlight.delete(key);
              return response;
            },
            (err: unknown) => {
              inFlight.delete(key);
              throw err;
            },
          );
          inFlight.set(key, call);
        }
        return (await call).clone();
      };
    },
    /** Calls in flight that others may join (for tests and diagnostics). */
    get inFlight() {
      return inFlight.size;
    },
  };
}
export type SubgraphDedup = ReturnType<typeof createSubgraphDedup>;
