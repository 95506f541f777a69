import type { RemoteGraphQLDataSource } from '@apollo/gateway';
import { httpRequest, keepAliveAgent, type HttpAnswer } from '@orderflow/common/server';

/** What a data source calls (fetch's signature, narrowed: @apollo/utils.fetcher). */
export type Fetcher = RemoteGraphQLDataSource['fetcher'];
type FetcherResponse = Awaited<ReturnType<Fetcher>>;

/**
 * The gateway's HTTP client for subgraph calls: `httpRequest` (node:http) on a
 * keep-alive agent, answering with the small part of a fetch Response that
 * RemoteGraphQLDataSource reads (ok, status, headers, json/text), instead of
 * fetch (docs/decisions/007-subgraph-calls-on-node-http.md). Like the fetch
 * it replaces: connections are kept alive and shared, no per-origin cap,
 * nothing ever retried (a mutation must not be sent twice).
 *
 * Every call is given up after `timeoutMs` (SUBGRAPH_TIMEOUT_MS), answer and
 * body included: its socket is destroyed, not returned to the pool, and the
 * call fails like an unreachable subgraph (SERVICE_UNAVAILABLE for the fields
 * that subgraph owns). A hung subgraph thus never holds a client's request,
 * its in-flight slot or a socket for longer.
 */
export function createSubgraphFetcher({ timeoutMs }: { timeoutMs: number }): Fetcher & { close(): void } {
  const agent = keepAliveAgent();
  const fetcher = async (url: string, init: Parameters<Fetcher>[1] = {}): Promise<FetcherResponse> =>
    new SubgraphResponse(
      url,
      await httpRequest(url, {
        method: init.method,
        headers: init.headers,
        body: init.body,
        agent,
        timeoutMs,
        signal: init.signal,
      }),
    );
  return Object.assign(fetcher, { close: () => agent.destroy() });
}

class SubgraphResponse implements FetcherResponse {
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  readonly headers: Headers;
  readonly redirected = false;
  bodyUsed = false;

  private readonly body: string;

  constructor(
    readonly url: string,
    answer: HttpAnswer,
  ) {
    this.status = answer.status;
    this.statusText = answer.statusText;
    this.ok = this.status >= 200 && this.status < 300;
    this.body = answer.body;
    this.headers = new Headers();
    for (let i = 0; i < answer.rawHeaders.length; i += 2)
      this.headers.append(answer.rawHeaders[i], answer.rawHeaders[i + 1]);
  }

  async text() {
    this.bodyUsed = true;
    return this.body;
  }
  async json() {
    this.bodyUsed = true;
    return JSON.parse(this.body);
  }
  async arrayBuffer() {
    this.bodyUsed = true;
    const bytes = Buffer.from(this.body, 'utf8');
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }
  clone(): FetcherResponse {
    return Object.assign(Object.create(SubgraphResponse.prototype), this, { bodyUsed: false });
  }
}
