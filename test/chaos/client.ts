// A GraphQL client for the fault tests that never waits for ever: every
// request has its own deadline, and every answer is recorded as what a client
// would see (a result, a GraphQL error code, an HTTP status, a refused or
// reset connection, or nothing before the deadline).

/** What one request came back with. */
export type Outcome =
  | { kind: 'ok'; typename: string | null }
  | { kind: 'graphql-error'; code: string }
  | { kind: 'http-error'; status: number }
  | { kind: 'network'; code: string }
  /** No answer before the request's deadline (the fetch was aborted). */
  | { kind: 'timeout' }
  /** Not even the abort ended it: the client itself was stuck. */
  | { kind: 'hung' };

export interface RequestRecord {
  op: string;
  /** ms since the recorder was created */
  startedAt: number;
  ms: number;
  outcome: Outcome;
}

export interface GraphQLBody {
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** A short label of an outcome, for the summary table: `ok:OrderPlaced`, `error:SERVICE_UNAVAILABLE`, `http:502`, `net:ECONNREFUSED`, `timeout`. */
export function label(o: Outcome): string {
  switch (o.kind) {
    case 'ok':
      return o.typename ? `ok:${o.typename}` : 'ok';
    case 'graphql-error':
      return `error:${o.code}`;
    case 'http-error':
      return `http:${o.status}`;
    case 'network':
      return `net:${o.code}`;
    default:
      return o.kind;
  }
}

/** The error code of a failed fetch: the socket's (ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET…) when there is one. */
function networkCode(err: unknown): string {
  let e = err as { code?: string; cause?: unknown; name?: string } | undefined;
  for (let depth = 0; e && depth < 5; depth++) {
    if (e.code) return e.code;
    e = e.cause as typeof e;
  }
  return (err as Error)?.name ?? 'unknown';
}

/**
 * Sends GraphQL requests to `gatewayUrl` with a deadline of `timeoutMs` each
 * and keeps a record of every one.
 */
export function createRecorder({
  gatewayUrl,
  timeoutMs,
  origin = Date.now(),
}: {
  gatewayUrl: string;
  timeoutMs: number;
  /** What `startedAt` counts from. Default: now. */ origin?: number;
}) {
  const t0 = origin;
  const records: RequestRecord[] = [];

  async function send(
    query: string,
    variables: unknown,
    headers: Record<string, string>,
  ): Promise<{ outcome: Outcome; body: GraphQLBody | null }> {
    let res: Response;
    try {
      res = await fetch(`${gatewayUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      return {
        outcome:
          (err as Error).name === 'TimeoutError' ? { kind: 'timeout' } : { kind: 'network', code: networkCode(err) },
        body: null,
      };
    }
    let body: GraphQLBody | null;
    try {
      body = JSON.parse(await res.text()) as GraphQLBody;
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') return { outcome: { kind: 'timeout' }, body: null };
      if (!(err instanceof SyntaxError)) return { outcome: { kind: 'network', code: networkCode(err) }, body: null };
      return { outcome: { kind: 'http-error', status: res.status }, body: null };
    }
    if (body?.errors?.length)
      return { outcome: { kind: 'graphql-error', code: body.errors[0].extensions?.code ?? 'NO_CODE' }, body };
    if (!res.ok || !body?.data) return { outcome: { kind: 'http-error', status: res.status }, body };
    const first = Object.values(body.data)[0] as { __typename?: string } | null;
    return { outcome: { kind: 'ok', typename: first?.__typename ?? null }, body };
  }

  return {
    records,
    /** One request; resolves (never rejects) with its outcome and body, within the deadline plus a little. */
    async request(
      op: string,
      query: string,
      variables: unknown,
      headers: Record<string, string> = {},
    ): Promise<{ outcome: Outcome; body: GraphQLBody | null }> {
      const started = Date.now();
      let guard: NodeJS.Timeout | undefined;
      // A second, independent deadline: if the abort itself failed to end the request, that is a hang we must see.
      const hung = new Promise<{ outcome: Outcome; body: null }>((r) => {
        guard = setTimeout(() => r({ outcome: { kind: 'hung' }, body: null }), timeoutMs + 5_000);
      });
      const result = await Promise.race([send(query, variables, headers), hung]);
      clearTimeout(guard);
      records.push({ op, startedAt: started - t0, ms: Date.now() - started, outcome: result.outcome });
      return result;
    },
  };
}
export type Recorder = ReturnType<typeof createRecorder>;
