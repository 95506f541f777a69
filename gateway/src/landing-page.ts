import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import {
  ApolloServerPluginLandingPageLocalDefault,
  ApolloServerPluginLandingPageProductionDefault,
} from '@apollo/server/plugin/landingPage/default';
import type { Logger } from '@orderflow/common/observability';

/**
 * The operation Sandbox opens with. Its comment is the only help a newcomer
 * gets inside Sandbox: where a token comes from and where it goes.
 */
export const SANDBOX_INITIAL_DOCUMENT = `# orderflow, through the gateway. The catalog is public: run this as is.
#
# Everything else needs an access token. Get one, then open "Headers" below and add
#   Authorization: Bearer <token>
# - a customer: run the signUp or logIn mutation and copy accessToken from its answer;
# - a service client (e.g. ops-console, every scope):
#     curl -s -u ops-console:ops-console-dev-secret -d grant_type=client_credentials <this origin>/oauth/token
#   and copy access_token.
# Subscriptions run on ws://<this host>/graphql (graphql-ws); the token goes in the
# connection settings' connectionParams: { "authorization": "Bearer <token>" }.
query Catalog {
  products(first: 5) {
    totalCount
    edges {
      node {
        id
        name
        price {
          amount
          currencyCode
        }
        availableQuantity
      }
    }
  }
}
`;

// Apollo Server hands Sandbox only some of its embed options (endpointIsEditable,
// initialState, runTelemetry), not initialSubscriptionEndpoint. The gateway serves
// graphql-ws on the same path as HTTP, so the page derives it from its own URL in
// the browser (http → ws, https → wss): right behind a proxy or on any port.
const EMBED_CALL = /(\.\.\.embeddedSandboxConfig,\s*initialEndpoint,)/;
const SUBSCRIPTION_ENDPOINT = `$1\n      initialSubscriptionEndpoint: initialEndpoint.replace(/^http/, 'ws'),`;

/**
 * Adds `initialSubscriptionEndpoint` to the embedded Sandbox of Apollo's
 * landing page, which has no option for it. Returns the page unchanged (and
 * says so once) if Apollo's markup ever stops matching.
 */
export function withSubscriptionEndpoint<T extends BaseContext>(
  plugin: ApolloServerPlugin<T>,
  log: Logger,
): ApolloServerPlugin<T> {
  let warned = false;
  const addEndpoint = (html: string) => {
    if (EMBED_CALL.test(html)) return html.replace(EMBED_CALL, SUBSCRIPTION_ENDPOINT);
    if (!warned) log.warn('Apollo Sandbox page changed shape: its subscription endpoint is left to Sandbox');
    warned = true;
    return html;
  };
  return {
    async serverWillStart(service) {
      const listener = await plugin.serverWillStart?.(service);
      if (!listener?.renderLandingPage) return listener;
      const render = listener.renderLandingPage.bind(listener);
      return {
        ...listener,
        async renderLandingPage() {
          const { html } = await render();
          return { html: async () => addEndpoint(typeof html === 'string' ? html : await html()) };
        },
      };
    },
  };
}

/**
 * The page a browser gets on `GET /graphql`. Development: Apollo Sandbox,
 * embedded, on this gateway only (the endpoint is not editable), opening with
 * {@link SANDBOX_INITIAL_DOCUMENT}. Production: Apollo's production landing
 * page, which runs nothing against the API (introspection is off there anyway).
 */
export function createLandingPage<T extends BaseContext>({
  production,
  log,
}: {
  production: boolean;
  log: Logger;
}): ApolloServerPlugin<T> {
  if (production) return ApolloServerPluginLandingPageProductionDefault({ footer: false });
  return withSubscriptionEndpoint(
    ApolloServerPluginLandingPageLocalDefault({
      footer: false,
      embed: { endpointIsEditable: false },
      document: SANDBOX_INITIAL_DOCUMENT,
    }),
    log,
  );
}
