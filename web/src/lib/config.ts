/**
 * Where the gateway is. By default the page's own origin: the gateway serves
 * the built app, and `npm run dev` proxies the gateway's routes. Set
 * VITE_GATEWAY_URL at build time for a gateway on another origin (it must
 * then allow this origin with CORS; WebSockets need no CORS).
 */
export const gatewayOrigin = (import.meta.env.VITE_GATEWAY_URL || window.location.origin).replace(/\/+$/, '');

export const graphqlHttpUrl = `${gatewayOrigin}/graphql`;
export const graphqlWsUrl = graphqlHttpUrl.replace(/^http/, 'ws');
export const oauthTokenUrl = `${gatewayOrigin}/oauth/token`;
