import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache } from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { ErrorLink } from '@apollo/client/link/error';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { createClient, type Client as WsClient } from 'graphql-ws';
import { from, mergeMap, throwError } from 'rxjs';
import { graphqlHttpUrl, graphqlWsUrl } from './config.ts';
import { createTrustedDocumentLink } from './persisted-documents.ts';
import type { Session } from './session.ts';

export type SocketState = 'idle' | 'connecting' | 'connected' | 'closed';

/** The WebSocket of one Apollo client, observable by the "Live" indicators. */
export interface SocketStatus {
  state(): SocketState;
  /** The close code of the last closed socket (4401: token expired; 1012/1013: reconnect with the last cursor). */
  lastCloseCode(): number | null;
  subscribe(listener: () => void): () => void;
}

export interface OrderflowClient {
  apollo: ApolloClient;
  session: Session;
  socket: SocketStatus;
  ws: WsClient;
}

const isUnauthenticated = (error: unknown) =>
  CombinedGraphQLErrors.is(error) && error.errors.some((e) => e.extensions?.code === 'UNAUTHENTICATED');

/**
 * One Apollo client for one session (the customer's or the operator's):
 * queries and mutations over HTTP, subscriptions over graphql-ws, both with
 * the session's bearer token.
 */
export function createOrderflowClient(session: Session): OrderflowClient {
  let state: SocketState = 'idle';
  let lastCloseCode: number | null = null;
  const listeners = new Set<() => void>();
  const setState = (next: SocketState) => {
    state = next;
    for (const l of listeners) l();
  };

  const ws = createClient({
    url: graphqlWsUrl,
    lazy: true,
    // No silent retries inside graphql-ws: it would resubscribe with the
    // first variables, while useLiveSubscription resumes from the last cursor
    // (and renews the token first on 4401).
    retryAttempts: 0,
    connectionParams: async () => {
      const token = await session.freshAccessToken();
      return token ? { authorization: `Bearer ${token}` } : {};
    },
    on: {
      connecting: () => setState('connecting'),
      connected: () => setState('connected'),
      closed: (event) => {
        lastCloseCode = (event as { code?: number } | undefined)?.code ?? null;
        setState('closed');
      },
    },
  });

  const auth = new SetContextLink(async (prev) => {
    const token = await session.freshAccessToken();
    return token ? { headers: { ...prev.headers, authorization: `Bearer ${token}` } } : {};
  });

  // An access token can die before its expiry (revoked, keys rotated): renew
  // once and retry. Safe for mutations too: the gateway refuses the token
  // before anything runs.
  const renewOnUnauthenticated = new ErrorLink(({ error, operation, forward }) => {
    if (!isUnauthenticated(error) || !session.current() || operation.getContext().renewed) return;
    operation.setContext({ renewed: true });
    return from(session.renew()).pipe(mergeMap((ok) => (ok ? forward(operation) : throwError(() => error))));
  });

  // Production builds send queries and mutations by id (the manifest's sha256), never their text.
  const byId = import.meta.env.PROD ? [createTrustedDocumentLink()] : [];
  const http = ApolloLink.from([renewOnUnauthenticated, auth, ...byId, new HttpLink({ uri: graphqlHttpUrl })]);
  const link = ApolloLink.split(
    ({ query }) => {
      const def = getMainDefinition(query);
      return def.kind === 'OperationDefinition' && def.operation === 'subscription';
    },
    new GraphQLWsLink(ws),
    http,
  );

  const apollo = new ApolloClient({
    link,
    cache: new InMemoryCache({
      typePolicies: {
        // Value objects without ids: a newer one replaces the older one.
        Money: { merge: true },
        Address: { merge: true },
        PageInfo: { merge: true },
      },
    }),
  });

  // Whoever signs in or out, nothing of the previous principal stays: no
  // cached data, no socket authenticated as them.
  let principal = session.current()?.label ?? null;
  session.subscribe(() => {
    const next = session.current()?.label ?? null;
    if (next === principal) return;
    principal = next;
    ws.terminate();
    void apollo.clearStore();
  });

  return {
    apollo,
    session,
    ws,
    socket: {
      state: () => state,
      lastCloseCode: () => lastCloseCode,
      subscribe(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    },
  };
}
