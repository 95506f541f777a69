/**
 * The subgraphs of the federation and the port each listens on by default (`npm start`, compose, the
 * gateway's default URLs). The gateway itself listens on GATEWAY_DEFAULT_PORT.
 */
export const SUBGRAPHS = [
  { name: 'auth', defaultPort: 4001 },
  { name: 'products', defaultPort: 4002 },
  { name: 'orders', defaultPort: 4003 },
  { name: 'shipments', defaultPort: 4004 },
] as const;
export type SubgraphName = (typeof SUBGRAPHS)[number]['name'];

export const GATEWAY_DEFAULT_PORT = 4000;

/** A subgraph's default port. */
export function defaultPortOf(name: SubgraphName): number {
  return SUBGRAPHS.find((s) => s.name === name)!.defaultPort;
}

/** A subgraph's URL on this machine at its default port: the default of `<NAME>_URL`. */
export function defaultUrlOf(name: SubgraphName): string {
  return `http://127.0.0.1:${defaultPortOf(name)}`;
}
