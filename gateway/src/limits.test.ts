import { buildSchema, getOperationAST, parse, specifiedRules, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_OPERATION_LIMITS as LIMITS,
  checkNulCharacters,
  checkOperationCost,
  createOperationCheck,
  createOperationShapeRule,
} from './limits.ts';

const schema = buildSchema(`
  type Query { products(first: Int = 20): ProductConnection! order(id: ID!): Order }
  type ProductConnection { edges: [ProductEdge!]! totalCount: Int! }
  type ProductEdge { node: Product! }
  type Product { id: ID! name: String! movements(first: Int = 20): [Movement!]! }
  type Movement { id: ID! }
  type Order { id: ID! items: [Item!]! shipment: Shipment }
  type Item { quantity: Int! product: Product! }
  type Shipment { id: ID! order: Order! }
`);

const shape = (query: string) =>
  validate(schema, parse(query), [...specifiedRules, createOperationShapeRule(LIMITS)]).map((e) => e.message);
const cost = (query: string, variables?: Record<string, unknown>) => {
  const doc = parse(query);
  return checkOperationCost(schema, doc, getOperationAST(doc)!, variables, LIMITS)?.message ?? null;
};
const nested = (levels: number) => {
  let inner = 'id';
  for (let i = 0; i < levels; i++) inner = `shipment { order { ${inner} } }`;
  return `{ order(id: "1") { ${inner} } }`;
};

describe('operation limits', () => {
  it('measures depth through fragments and refuses past the limit', () => {
    expect(shape(nested(5))).toEqual([]); // depth 12
    expect(shape(nested(6))).toEqual(['The operation is nested 14 levels deep; at most 12 are allowed']);
    const viaFragments = `query Deep { order(id: "1") { ...A } } fragment A on Order { shipment { order { ...B } } } fragment B on Order { shipment { order { shipment { order { shipment { order { shipment { order { shipment { order { id } } } } } } } } } } }`;
    expect(shape(viaFragments)).toEqual(['Operation "Deep" is nested 14 levels deep; at most 12 are allowed']);
  });

  it('counts aliases and directives where fragments are spread, in linear time for a fragment bomb', () => {
    let fragments = 'fragment F0 on Query { a: __typename }';
    for (let i = 1; i <= 40; i++)
      fragments += ` fragment F${i} on Query { ...F${i - 1} b${i}: __typename @include(if: true) ...F${i - 1} }`;
    const started = performance.now();
    const errors = shape(`{ ...F40 } ${fragments}`);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(errors).toEqual([
      // 2^40 copies of a: plus one b per copy of each level.
      `The operation uses ${2 ** 41 - 1} aliases; at most 30 are allowed`,
      `The operation uses ${2 ** 40 - 1} directives; at most 50 are allowed`,
    ]);
    expect(shape(`{ ${Array.from({ length: 30 }, (_, i) => `a${i}: __typename`).join(' ')} }`)).toEqual([]);
    expect(shape(`{ ${Array.from({ length: 31 }, (_, i) => `a${i}: __typename`).join(' ')} }`)).toEqual([
      'The operation uses 31 aliases; at most 30 are allowed',
    ]);
  });

  it('multiplies by page sizes, from literals, variables and defaults; edges add nothing', () => {
    const page = `query($n: Int) { products(first: $n) { edges { node { id movements(first: 100) { id } } } } }`;
    // products 1 + n × (edges 1 + node 1 + id 1 + movements 1 + 100 × id 1)
    expect(cost(page, { n: 10 })).toBeNull(); // 1 + 10 × 104
    expect(cost(page, { n: 100 })).toMatch(
      /^The operation is too expensive: estimated cost 10401, at most 10000 allowed/,
    );
    expect(cost(page)).toBeNull(); // an absent variable: the argument's default, 20
    expect(cost(page, { n: 'many' })).toMatch(/estimated cost 10401,/); // not an integer: a full page
    expect(cost('{ products(first: 100000) { totalCount } }')).toMatch(/estimated cost 100001,/);
    expect(cost('{ products { totalCount } }')).toBeNull(); // the default: 20
    // A list without first counts 10: items × product × movements (default 20).
    expect(cost('{ order(id: "1") { items { product { movements { id } } } } }')).toBeNull(); // 1 + 1 + 10 × (1 + 1 + 20)
  });

  it('does not count introspection', () => {
    const ofType = (n: number): string => (n === 0 ? 'name' : `ofType { ${ofType(n - 1)} }`);
    expect(shape(`{ __schema { types { fields { type { ${ofType(12)} } } } } }`)).toEqual([]);
  });

  it('refuses NUL characters in variables and string literals, which PostgreSQL cannot store', () => {
    const doc = parse('mutation($r: String) { cancel(reason: $r) }');
    expect(checkNulCharacters(doc, { r: 'fine', list: ['ok', { deep: 'a\u0000b' }] })?.message).toBe(
      'Text may not contain NUL characters (U+0000): $.list[1].deep',
    );
    expect(checkNulCharacters(parse('{ order(id: "1\\u0000") { id } }'), {})?.extensions.code).toBe('BAD_USER_INPUT');
    expect(checkNulCharacters(doc, { r: 'a\\u0000 is only written out' })).toBeNull();
  });

  it('checks an operation parsed once (as Apollo Server reuses it) against each request’s variables', () => {
    const check = createOperationCheck(LIMITS);
    const run = (doc: ReturnType<typeof parse>, variables?: Record<string, unknown>) =>
      check(schema, doc, getOperationAST(doc)!, variables)?.message ?? null;
    const page = parse(`query($n: Int) { products(first: $n) { edges { node { id movements(first: 100) { id } } } } }`);
    expect(run(page, { n: 10 })).toBeNull();
    expect(run(page, { n: 100 })).toMatch(/estimated cost 10401,/);
    expect(run(page, { n: 10 })).toBeNull();
    const fixed = parse('mutation($r: String) { cancel(reason: $r) }');
    expect(run(fixed, { r: 'fine' })).toBeNull();
    expect(run(fixed, { r: 'a\u0000b' })).toBe('Text may not contain NUL characters (U+0000): $.r');
    const big = parse('{ products(first: 100000) { totalCount } }');
    expect(run(big)).toMatch(/estimated cost 100001,/);
    expect(run(big)).toMatch(/estimated cost 100001,/);
    const literal = parse('{ order(id: "1\\u0000") { id } }');
    expect(run(literal)).toBe('Text may not contain NUL characters (U+0000): a string in the document');
    expect(run(literal)).toBe('Text may not contain NUL characters (U+0000): a string in the document');
  });
});
