import type { Server } from 'node:http';
import type { ApolloGateway } from '@apollo/gateway';
import type { ApolloServer } from '@apollo/server';
import type { ExecutionResult } from 'graphql';
import type { Bus } from '@orderflow/common/messaging';
import type { Logger } from '@orderflow/common/observability';
import type { Viewer } from '@orderflow/common/server';
import { createEventHub } from './event-hub.ts';
import { createSubscriptionServer, type SubscriptionServerOptions } from './server.ts';

export { SubscriptionCloseCode } from './server.ts';

/**
 * Gives the gateway GraphQL subscriptions: one JetStream hub per instance,
 * graphql-ws on the HTTP server's /graphql path, payloads resolved through
 * the gateway itself (`apollo.executeOperation`) with the subscriber's
 * identity.
 */
export async function startSubscriptions({
  httpServer,
  apollo,
  gateway,
  bus,
  parseOptions,
  validationRules,
  checkOperation,
  log,
  authenticate,
  limits,
  clientAddress,
  upgradeLimit,
}: {
  httpServer: Server;
  apollo: ApolloServer<{ viewer: Viewer | null }>;
  gateway: ApolloGateway;
  /** The gateway's NATS connection; the streams are the services' to declare. */
  bus: Bus;
  parseOptions?: SubscriptionServerOptions['parseOptions'];
  validationRules?: SubscriptionServerOptions['validationRules'];
  /** The checks queries get once their variables are known (the cost limit). */
  checkOperation?: SubscriptionServerOptions['checkOperation'];
  log: Logger;
  authenticate: SubscriptionServerOptions['authenticate'];
  limits?: SubscriptionServerOptions['limits'];
  clientAddress?: SubscriptionServerOptions['clientAddress'];
  upgradeLimit?: SubscriptionServerOptions['upgradeLimit'];
}) {
  const hub = createEventHub({ bus, log, eventTypes: ['orders.status_changed', 'inventory.low_stock'] });
  hub.start();
  const server = createSubscriptionServer({
    httpServer,
    path: '/graphql',
    hub,
    log,
    limits,
    clientAddress,
    upgradeLimit,
    parseOptions,
    validationRules,
    checkOperation,
    authenticate,
    schema: () => gateway.schema!,
    async execute(query, variables, viewer) {
      // A string, not a DocumentNode: Apollo would print the document again for every payload.
      const res = await apollo.executeOperation({ query, variables }, { contextValue: { viewer } });
      if (res.body.kind !== 'single')
        return { errors: [{ message: 'Unexpected incremental result' }] } as unknown as ExecutionResult;
      return res.body.singleResult as ExecutionResult;
    },
  });
  return {
    server,
    async stop() {
      await server.close();
      await hub.stop();
    },
  };
}
