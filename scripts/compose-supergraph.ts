// npm run compose:supergraph — writes schema/supergraph.graphql from the subgraph SDLs.
import { writeFileSync } from 'node:fs';
import { ACCEPTED_HINTS, SUPERGRAPH_PATH, composeSupergraph } from '../gateway/src/compose.ts';

const { supergraphSdl, errors, hints } = composeSupergraph();
if (!supergraphSdl) {
  console.error(`Composition failed:\n${errors.map((e) => `  - ${e}`).join('\n')}`);
  process.exit(1);
}
const unaccepted = hints.filter((h) => !ACCEPTED_HINTS.some((re) => re.test(h)));
for (const h of unaccepted) console.warn(`hint: ${h}`);
writeFileSync(SUPERGRAPH_PATH, supergraphSdl);
console.log(`wrote ${SUPERGRAPH_PATH}${unaccepted.length ? ` (${unaccepted.length} hints to review)` : ''}`);
