import { ApolloProvider } from '@apollo/client/react';
import { createContext, useContext, useSyncExternalStore, type ReactNode } from 'react';
import type { OrderflowClient } from './apollo.ts';
import type { Session } from './session.ts';

const OrderflowContext = createContext<OrderflowClient | null>(null);

/** Apollo's provider plus the session and socket of the same client. */
export function OrderflowProvider({ client, children }: { client: OrderflowClient; children: ReactNode }) {
  return (
    <OrderflowContext.Provider value={client}>
      <ApolloProvider client={client.apollo}>{children}</ApolloProvider>
    </OrderflowContext.Provider>
  );
}

export function useOrderflow(): OrderflowClient {
  const client = useContext(OrderflowContext);
  if (!client) throw new Error('useOrderflow outside an OrderflowProvider');
  return client;
}

/** The session's tokens (null when signed out); re-renders on sign-in, renewal and sign-out. */
export function useTokens(session: Session) {
  return useSyncExternalStore(session.subscribe, session.current);
}
