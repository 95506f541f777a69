import { CombinedGraphQLErrors, type OperationVariables, type TypedDocumentNode } from '@apollo/client';
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { useOrderflow } from './orderflow-context.tsx';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'stopped';

export interface LiveSubscriptionOptions<TData, TVariables> {
  variables: Omit<TVariables, 'after'>;
  /** The first `after`: "0" replays the history first; undefined starts with live events only. */
  startAfter?: string;
  skip?: boolean;
  onData(data: TData): void;
}

/** Errors that reconnecting would only repeat. */
const FATAL_CODES = new Set([
  'FORBIDDEN',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'GRAPHQL_VALIDATION_FAILED',
  'GRAPHQL_PARSE_FAILED',
]);
const MAX_BACKOFF_MS = 15_000;

function closeCodeOf(error: unknown, fallback: number | null): number | null {
  const m = error instanceof Error ? /Socket closed with event (\d+)/.exec(error.message) : null;
  return m ? Number(m[1]) : fallback;
}

/**
 * A subscription that survives its socket: each payload's
 * `extensions.cursor` is remembered, and whenever the stream ends (gateway
 * restart 1012, slow consumer 1013, network loss) it is started again with
 * `after: <last cursor>`, so nothing is missed and nothing repeats. On 4401
 * (token expired or revoked) the session is renewed first. Errors that a
 * retry would repeat (not found, forbidden) stop it and are returned.
 */
export function useLiveSubscription<TData, TVariables extends OperationVariables>(
  query: TypedDocumentNode<TData, TVariables>,
  { variables, startAfter, skip = false, onData }: LiveSubscriptionOptions<TData, TVariables>,
): { status: LiveStatus; error: string | null } {
  const { apollo, session, socket } = useOrderflow();
  const onDataRef = useRef(onData);
  onDataRef.current = onData;
  const [retrying, setRetrying] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const socketState = useSyncExternalStore(socket.subscribe, socket.state);
  const key = JSON.stringify(variables);

  useEffect(() => {
    if (skip) return;
    let cursor = startAfter;
    let attempt = 0;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let current: { unsubscribe(): void } | undefined;
    setError(null);
    setRetrying(false);

    const start = () => {
      let lastError: unknown = null;
      const vars = { ...JSON.parse(key), ...(cursor !== undefined ? { after: cursor } : {}) } as TVariables;
      current = apollo.subscribe({ query, variables: vars, errorPolicy: 'all' }).subscribe({
        next(result) {
          const c = result.extensions?.cursor;
          if (typeof c === 'string') cursor = c;
          if (result.error) lastError = result.error;
          if (result.data) {
            attempt = 0;
            setRetrying(false);
            onDataRef.current(result.data as TData);
          }
        },
        error(err) {
          lastError = err;
          void ended();
        },
        complete() {
          void ended();
        },
      });

      async function ended() {
        if (stopped) return;
        const graphqlErrors = CombinedGraphQLErrors.is(lastError) ? lastError.errors : [];
        const fatal = graphqlErrors.find((e) => FATAL_CODES.has(String(e.extensions?.code)));
        if (fatal) {
          stopped = true;
          setError(fatal.message);
          return;
        }
        const unauthenticated =
          graphqlErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED') ||
          closeCodeOf(lastError, socket.lastCloseCode()) === 4401;
        if (unauthenticated && !(await session.renew())) {
          stopped = true;
          setError('Your session has expired: please sign in again.');
          return;
        }
        if (stopped) return;
        setRetrying(true);
        const delay = unauthenticated ? 0 : Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt) * (0.75 + Math.random() / 2);
        attempt++;
        timer = setTimeout(start, delay);
      }
    };
    start();
    return () => {
      stopped = true;
      clearTimeout(timer);
      current?.unsubscribe();
    };
  }, [apollo, session, socket, query, key, startAfter, skip]);

  const status: LiveStatus =
    skip || error ? 'stopped' : retrying ? 'reconnecting' : socketState === 'connected' ? 'live' : 'connecting';
  return { status, error };
}
