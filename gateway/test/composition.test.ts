import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ACCEPTED_HINTS, SUPERGRAPH_PATH, composeSupergraph } from '../src/compose.ts';

describe('supergraph composition', () => {
  const result = composeSupergraph();

  it('composes without errors', () => expect(result.errors).toEqual([]));

  it('raises no hint we have not accepted', () =>
    expect(result.hints.filter((h) => !ACCEPTED_HINTS.some((re) => re.test(h)))).toEqual([]));

  it('matches the committed schema/supergraph.graphql (run npm run compose:supergraph)', () =>
    expect(readFileSync(SUPERGRAPH_PATH, 'utf8')).toBe(result.supergraphSdl));
});
