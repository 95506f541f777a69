import { ApolloServer } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { enforceAccessRules, readAccessRules } from './authorization.ts';
import type { Viewer } from './viewer.ts';

const sdl = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@authenticated", { name: "@requiresScopes", as: "@scopes" }])

  type Query {
    open: String
    member: String @authenticated
    either: String @scopes(scopes: [["a", "b"], ["c"]])
    secret: Secret
  }

  type Secret @scopes(scopes: [["s"]]) {
    value: String
    stricter: String @scopes(scopes: [["t"]])
  }
`);

const viewer = (...scopes: string[]): Viewer => ({
  id: 'u1',
  clientId: 'test',
  kind: 'customer',
  scopes: new Set(scopes),
});

describe('authorization from the schema', () => {
  const rules = readAccessRules(sdl);
  const schema = enforceAccessRules(
    buildSubgraphSchema({
      typeDefs: sdl,
      resolvers: {
        Query: { open: () => 'o', member: () => 'm', either: () => 'e', secret: () => ({ value: 'v', stricter: 'x' }) },
      } as never,
    }),
    rules,
  );
  // Executed the way a subgraph server does (the CommonJS graphql that built the schema).
  const server = new ApolloServer<{ viewer: Viewer | null }>({ schema });
  const run = async (query: string, v: Viewer | null) => {
    const res = await server.executeOperation({ query }, { contextValue: { viewer: v } });
    if (res.body.kind !== 'single') throw new Error('unexpected incremental result');
    const { data, errors } = res.body.singleResult;
    return { data, codes: (errors ?? []).map((e) => e.extensions?.code) };
  };

  it('reads field and type rules, with aliased directive names, merging the type into its fields', () => {
    expect(Object.fromEntries(rules)).toEqual({
      'Query.member': { authenticated: true, scopes: [] },
      'Query.either': { authenticated: false, scopes: [[['a', 'b'], ['c']]] },
      'Secret.value': { authenticated: false, scopes: [[['s']]] },
      'Secret.stricter': { authenticated: false, scopes: [[['s']], [['t']]] },
    });
  });

  it('leaves unguarded fields public', async () => {
    expect(await run('{ open }', null)).toEqual({ data: { open: 'o' }, codes: [] });
  });

  it('needs a viewer for @authenticated', async () => {
    expect((await run('{ member }', null)).codes).toEqual(['UNAUTHENTICATED']);
    expect((await run('{ member }', viewer())).data).toEqual({ member: 'm' });
  });

  it('treats the outer scope list as any-of and the inner as all-of', async () => {
    expect((await run('{ either }', null)).codes).toEqual(['UNAUTHENTICATED']);
    expect((await run('{ either }', viewer('a'))).codes).toEqual(['FORBIDDEN']);
    expect((await run('{ either }', viewer('a', 'b'))).data).toEqual({ either: 'e' });
    expect((await run('{ either }', viewer('c'))).data).toEqual({ either: 'e' });
  });

  it('applies a type rule to each field and a field rule on top of it', async () => {
    expect(await run('{ secret { value } }', viewer('t'))).toEqual({
      data: { secret: { value: null } },
      codes: ['FORBIDDEN'],
    });
    expect(await run('{ secret { value stricter } }', viewer('s'))).toEqual({
      data: { secret: { value: 'v', stricter: null } },
      codes: ['FORBIDDEN'],
    });
    expect((await run('{ secret { value stricter } }', viewer('s', 't'))).data).toEqual({
      secret: { value: 'v', stricter: 'x' },
    });
  });

  it('refuses the directives where they would not be enforced', () => {
    const onEnum = parse(`
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@authenticated"])
      enum Level @authenticated { LOW HIGH }
      type Query { level: Level }
    `);
    expect(() => readAccessRules(onEnum)).toThrow(/object types and fields only/);
  });
});
