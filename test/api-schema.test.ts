import { readFileSync } from 'node:fs';
import { buildSchema, getIntrospectionQuery, graphqlSync } from 'graphql';
import { describe, expect, it } from 'vitest';
import { SUPERGRAPH_PATH } from '../gateway/src/compose.ts';
import { API_SCHEMA_PATH, printApiSchema } from '../scripts/api-schema.ts';

describe('the public API reference, schema/api.graphql', () => {
  const supergraph = readFileSync(SUPERGRAPH_PATH, 'utf8');

  it('is the API schema of the committed supergraph: otherwise run `npm run schema:api`', () => {
    expect(readFileSync(API_SCHEMA_PATH, 'utf8')).toBe(printApiSchema(supergraph));
  });

  it('keeps the descriptions and none of the federation machinery', () => {
    const schema = buildSchema(readFileSync(API_SCHEMA_PATH, 'utf8'));
    expect(schema.getType('AuthPayload')?.description).toMatch(/RS256 JWT/);
    const names = Object.keys(schema.getTypeMap());
    expect(names.filter((n) => /^(join__|link__|requiresScopes__|_Entity|_Service|_Any)/.test(n))).toEqual([]);
    expect(schema.getDirectives().map((d) => d.name)).not.toContain('join__field');
    expect(graphqlSync({ schema, source: getIntrospectionQuery() }).errors).toBeUndefined();
  });

  it('says which fields need a token and which scopes, as the subgraphs declare them', () => {
    const reference = readFileSync(API_SCHEMA_PATH, 'utf8');
    const access = new Map(
      [...reference.matchAll(/^# {3}(\w+\.\w+) +(.+)$/gm)].map(([, coordinate, needs]) => [coordinate, needs]),
    );
    expect(access.get('Mutation.placeOrder')).toBe('scope orders:create');
    expect(access.get('Query.order')).toBe('a token');
    expect(access.get('Subscription.lowStockAlerts')).toBe('scope inventory:read');
    expect(access.has('Query.products')).toBe(false);
    expect(access.has('Mutation.logIn')).toBe(false);
  });

  it('would see a change to the supergraph (the first check can fail)', () => {
    const changed = supergraph.replace(
      '  isActive: Boolean! @join__field(graph: PRODUCTS)\n',
      '  isActive: Boolean! @join__field(graph: PRODUCTS)\n  giftWrap: Boolean! @join__field(graph: PRODUCTS)\n',
    );
    expect(changed).not.toBe(supergraph);
    expect(printApiSchema(changed)).toContain('giftWrap: Boolean!');
  });
});
