/**
 * The committed supergraph links the authenticated and requiresScopes specs
 * `for: SECURITY`, which obliges a router to enforce them or refuse the
 * schema. @apollo/gateway does not implement them (the Apollo Router does)
 * and refuses. Here every subgraph enforces its own directives
 * (packages/common/src/authorization.ts) and only the gateway can call a
 * subgraph, so the gateway may load the schema without that purpose.
 */
const SECURITY_LINK =
  /(@link\(url: "https:\/\/specs\.apollo\.dev\/(?:authenticated|requiresScopes)\/v[\d.]+"), for: SECURITY\)/g;

export function supergraphForGateway(supergraphSdl: string): string {
  return supergraphSdl.replace(SECURITY_LINK, '$1)');
}
