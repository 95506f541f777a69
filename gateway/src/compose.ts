import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';

import { SUBGRAPHS, type SubgraphName } from '@orderflow/contracts';

/** The subgraphs of the supergraph, in a stable order, with their default ports (one list: the contracts'). */
export { SUBGRAPHS, type SubgraphName };

export const SUPERGRAPH_PATH = fileURLToPath(new URL('../../schema/supergraph.graphql', import.meta.url));

export function subgraphSdlPath(name: SubgraphName): string {
  return fileURLToPath(new URL(`../../subgraphs/${name}/src/schema.graphql`, import.meta.url));
}

/**
 * Composes the supergraph offline from the subgraphs' SDL files (a pure
 * function of those files). Errors and hints come back as data; the caller
 * decides. URLs in the result are the local defaults: the gateway maps each
 * subgraph to its configured URL at start-up.
 */
export function composeSupergraph(): { supergraphSdl: string | null; errors: string[]; hints: string[] } {
  const result = composeServices(
    SUBGRAPHS.map(({ name, defaultPort: port }) => ({
      name,
      url: `http://127.0.0.1:${port}/graphql`,
      typeDefs: parse(readFileSync(subgraphSdlPath(name), 'utf8')),
    })),
  );
  if (result.errors) return { supergraphSdl: null, errors: result.errors.map((e) => e.message), hints: [] };
  return {
    supergraphSdl: result.supergraphSdl,
    errors: [],
    hints: result.hints.map((h) => `${h.definition.code}: ${h.message}`),
  };
}

/** Hints we have read and accept (a test fails on any other). */
export const ACCEPTED_HINTS: RegExp[] = [];
