import {
  Kind,
  defaultFieldResolver,
  valueFromASTUntyped,
  type ConstDirectiveNode,
  type DocumentNode,
  type GraphQLFieldResolver,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { forbidden, unauthenticated } from './errors.ts';
import type { Viewer } from './viewer.ts';

/**
 * Authorization as schema: a subgraph's SDL declares who may read a field
 * with the federation directives `@authenticated` and
 * `@requiresScopes(scopes: [["a", "b"], ["c"]])` (outer list: any of; inner
 * list: all of), and this module enforces exactly that before the field's
 * resolver runs. The SDL is the single source of truth: resolvers do not
 * repeat scope checks, they keep only the ownership rules that depend on data.
 *
 * @apollo/gateway does not enforce these directives (the Apollo Router does),
 * so every subgraph enforces its own; the gateway strips their `for: SECURITY`
 * purpose when it loads the supergraph (gateway/src/supergraph.ts).
 */
export interface AccessRule {
  /** A verified caller is needed. */
  authenticated: boolean;
  /**
   * Every entry comes from one `@requiresScopes` (on the type or the field)
   * and must pass: one of its alternatives must be fully held.
   */
  scopes: string[][][];
}

/** Rules by `Type.field`; type-level directives are already merged into each field. */
export type AccessRules = Map<string, AccessRule>;

const FEDERATION_SPEC = /^https:\/\/specs\.apollo\.dev\/federation\/v/;

/** Local names of the two directives, as the schema's `@link` imports them. */
function directiveNames(doc: DocumentNode): { authenticated: string; requiresScopes: string } {
  const names = { authenticated: 'federation__authenticated', requiresScopes: 'federation__requiresScopes' };
  for (const def of doc.definitions) {
    if (def.kind !== Kind.SCHEMA_DEFINITION && def.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const link of def.directives ?? []) {
      if (link.name.value !== 'link') continue;
      const args = Object.fromEntries((link.arguments ?? []).map((a) => [a.name.value, valueFromASTUntyped(a.value)]));
      if (typeof args.url !== 'string' || !FEDERATION_SPEC.test(args.url)) continue;
      for (const item of (args.import ?? []) as (string | { name: string; as?: string })[]) {
        const [name, as] = typeof item === 'string' ? [item, item] : [item.name, item.as ?? item.name];
        if (name === '@authenticated') names.authenticated = as.slice(1);
        if (name === '@requiresScopes') names.requiresScopes = as.slice(1);
      }
    }
  }
  return names;
}

function ruleOf(
  directives: readonly ConstDirectiveNode[] | undefined,
  names: ReturnType<typeof directiveNames>,
): AccessRule | null {
  let rule: AccessRule | null = null;
  for (const d of directives ?? []) {
    if (d.name.value === names.authenticated) {
      rule ??= { authenticated: false, scopes: [] };
      rule.authenticated = true;
    } else if (d.name.value === names.requiresScopes) {
      const arg = d.arguments?.find((a) => a.name.value === 'scopes');
      const value = arg ? valueFromASTUntyped(arg.value) : null;
      if (!Array.isArray(value) || !value.every((set) => Array.isArray(set) && set.every((s) => typeof s === 'string')))
        throw new Error(`@${names.requiresScopes} needs scopes: [[String!]!]!`);
      rule ??= { authenticated: false, scopes: [] };
      rule.scopes.push(value as string[][]);
    }
  }
  return rule;
}

function merge(a: AccessRule | null | undefined, b: AccessRule | null | undefined): AccessRule | null {
  if (!a) return b ?? null;
  if (!b) return a;
  return { authenticated: a.authenticated || b.authenticated, scopes: [...a.scopes, ...b.scopes] };
}

/**
 * Reads the access rules of a subgraph's SDL. Only object types and their
 * fields may carry the directives here; anywhere else (interfaces, scalars,
 * enums) is refused at start-up rather than silently left unenforced.
 */
export function readAccessRules(typeDefs: DocumentNode): AccessRules {
  const names = directiveNames(typeDefs);
  const typeRules = new Map<string, AccessRule>();
  const fieldRules = new Map<string, AccessRule>();
  for (const def of typeDefs.definitions) {
    if (def.kind === Kind.OBJECT_TYPE_DEFINITION || def.kind === Kind.OBJECT_TYPE_EXTENSION) {
      const own = ruleOf(def.directives, names);
      if (own) typeRules.set(def.name.value, merge(typeRules.get(def.name.value), own)!);
      for (const field of def.fields ?? []) {
        const rule = ruleOf(field.directives, names);
        if (rule) fieldRules.set(`${def.name.value}.${field.name.value}`, rule);
      }
    } else if ('directives' in def && 'name' in def && def.kind !== Kind.DIRECTIVE_DEFINITION) {
      const fields = 'fields' in def ? (def.fields ?? []) : [];
      const used = [def, ...fields].some((n) =>
        ruleOf((n as { directives?: readonly ConstDirectiveNode[] }).directives, names),
      );
      if (used)
        throw new Error(
          `${def.name?.value}: @${names.authenticated}/@${names.requiresScopes} are enforced on object types and fields only`,
        );
    }
  }
  // A type-level rule applies to every field of the type, wherever it is declared.
  const rules: AccessRules = new Map();
  const typesWithFields = new Map<string, string[]>();
  for (const def of typeDefs.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    const list = typesWithFields.get(def.name.value) ?? [];
    list.push(...(def.fields ?? []).map((f) => f.name.value));
    typesWithFields.set(def.name.value, list);
  }
  for (const [type, fields] of typesWithFields) {
    for (const field of fields) {
      const rule = merge(typeRules.get(type), fieldRules.get(`${type}.${field}`));
      if (rule) rules.set(`${type}.${field}`, rule);
    }
  }
  return rules;
}

/** Throws UNAUTHENTICATED or FORBIDDEN when the viewer does not satisfy the rule. */
export function checkAccess(viewer: Viewer | null, rule: AccessRule): void {
  if (!viewer) throw unauthenticated();
  for (const alternatives of rule.scopes) {
    if (!alternatives.some((set) => set.every((s) => viewer.scopes.has(s))))
      throw forbidden(`Missing scope ${alternatives.map((set) => set.join(' and ')).join(' or ')}`);
  }
}

/**
 * Wraps the resolver (and the subscribe function) of every field that has a
 * rule so the check runs first. Mutates and returns `schema`; call it once on
 * a freshly built schema.
 *
 * @param viewerOf How to find the verified caller in the GraphQL context. Default `ctx.viewer`.
 */
export function enforceAccessRules(
  schema: GraphQLSchema,
  rules: AccessRules,
  viewerOf: (context: unknown) => Viewer | null = (ctx) => (ctx as { viewer?: Viewer | null })?.viewer ?? null,
): GraphQLSchema {
  for (const [coordinate, rule] of rules) {
    const [typeName, fieldName] = coordinate.split('.');
    // Duck-typed, not isObjectType(): the schema may come from the CommonJS
    // copy of graphql (@apollo/subgraph's) while this module got the ESM one.
    const type = schema.getType(typeName) as GraphQLObjectType | undefined;
    if (!type || !('getFields' in type)) continue;
    const field = type.getFields()[fieldName];
    if (!field) continue;
    const guard =
      (inner: GraphQLFieldResolver<unknown, unknown>): GraphQLFieldResolver<unknown, unknown> =>
      (source, args, context, info) => {
        checkAccess(viewerOf(context), rule);
        return inner(source, args, context, info);
      };
    field.resolve = guard(field.resolve ?? defaultFieldResolver);
    if (field.subscribe) field.subscribe = guard(field.subscribe);
  }
  return schema;
}
