import {
  GraphQLError,
  Kind,
  buildSchema,
  execute,
  parse,
  parseType,
  print,
  printSchema,
  validate,
  visit,
  type ArgumentNode,
  type DocumentNode,
  type ExecutionResult,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLFieldResolver,
  type GraphQLSchema,
  type InlineFragmentNode,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import type { HubEvent } from './event-hub.ts';
import { createPayloadQuery, type ParsedSubscription, type ProjectionArgs } from './operation.ts';

/**
 * The payload fields one event carries, by field name; a field absent here is
 * one this event lacks (an older event without it), which is then fetched.
 */
type Carried = Record<string, unknown>;

const own = (d: Record<string, unknown>, key: string, out: Carried, as = key) => {
  if (Object.hasOwn(d, key)) out[as] = d[key] ?? null;
};

/**
 * What each payload type takes from its event as it is, the same value a
 * query of that type answers: `orders.status_changed` is written with its
 * status-history row (orderId, previousStatus, status, reason; occurredAt
 * only when the event carries the row's own time, never the envelope's,
 * which is a few milliseconds later); `inventory.low_stock` is what
 * Query.lowStockAlert echoes (it is resolved from the event's values, and
 * occurredAt is the envelope's). `order` and `product` are the federated
 * fields an event never carries.
 */
export const CARRIED_BY_EVENT: Record<ParsedSubscription['fieldName'], (e: HubEvent) => Carried> = {
  orderStatusChanged: orderStatusChangeFields,
  myOrderUpdates: orderStatusChangeFields,
  lowStockAlerts(e) {
    const out: Carried = {};
    own(e.event.data, 'availableQuantity', out);
    own(e.event.data, 'threshold', out);
    out.occurredAt = e.event.occurredAt;
    return out;
  },
};

/**
 * A payload field that a Query field answers from a value the event carries. When such fields are
 * all an event lacks, they are fetched from that Query field instead of through the projection: a
 * status change's `order` is `Query.order(id: orderId)`, without `Query.orderStatusChange(id)`,
 * which would read the status-history row again only to find the order the event names.
 */
interface RootFetch {
  /** The payload type's field. */
  field: string;
  /** The Query field that answers it, and its one argument… */
  query: string;
  arg: string;
  /** …whose value is this field of the event's (`Carried`). */
  from: string;
}

const ORDER_BY_ID: RootFetch = { field: 'order', query: 'order', arg: 'id', from: 'orderId' };
export const FETCHED_FROM_ROOT: Partial<Record<ParsedSubscription['fieldName'], RootFetch>> = {
  orderStatusChanged: ORDER_BY_ID,
  myOrderUpdates: ORDER_BY_ID,
};

function orderStatusChangeFields(e: HubEvent): Carried {
  const out: Carried = {};
  for (const key of ['orderId', 'previousStatus', 'status', 'reason']) own(e.event.data, key, out);
  if (typeof e.event.data.occurredAt === 'string') out.occurredAt = e.event.data.occurredAt;
  return out;
}

/** Runs a query through the gateway (query plan, subgraphs) as one subscriber's viewer. */
export type Fetch = (query: string, variables: Record<string, unknown>) => Promise<ExecutionResult>;

/**
 * One subscription document, planned once and shared by every subscription
 * that sends the same text (thousands of open order pages hold one plan,
 * not one parsed document each).
 */
export interface PayloadPlan {
  /** Short and unique per plan: with the client's variables it names a selection (the sharing keys). */
  readonly id: string;
  /** The client's variables the payload depends on (`selectionVariables` picks them). */
  readonly clientVariables: readonly string[];
  /** The payload query's variables for one event: the client's it uses and the event's values. */
  variables(client: Record<string, unknown>, projected: ProjectionArgs): Record<string, unknown>;
  /**
   * Whether this event lacks a field the selection may ask for. When it
   * does not, the payload is computed from the event alone (`local`) and is
   * the same for everyone the event is delivered to; otherwise the missing
   * fields are fetched as the viewer (`fetched`).
   */
  needsFetch(e: HubEvent): boolean;
  /** The payload from the event alone: no subgraph is asked. */
  local(e: HubEvent, variables: Record<string, unknown>): ExecutionResult;
  /** The payload with the fields the event lacks fetched through the gateway as the viewer, merged with the event's. */
  fetched(e: HubEvent, variables: Record<string, unknown>, fetch: Fetch): Promise<ExecutionResult>;
}

/** The payload-level fields a selection may ask for, through fragments and inline fragments, whatever the directives. */
function payloadFieldNames(
  set: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  out = new Set<string>(),
) {
  for (const s of set.selections) {
    if (s.kind === Kind.FIELD) out.add(s.name.value);
    else if (s.kind === Kind.INLINE_FRAGMENT) payloadFieldNames(s.selectionSet, fragments, out);
    else {
      const f = fragments.get(s.name.value);
      if (f) payloadFieldNames(f.selectionSet, fragments, out);
    }
  }
  return out;
}

/**
 * The payload level of a selection without the fields the event carries:
 * fragment spreads become inline fragments (their fragment may be spread
 * deeper too, where nothing is removed), and what ends up empty goes.
 */
function withoutCarried(
  set: SelectionSetNode,
  carried: ReadonlySet<string>,
  fragments: Map<string, FragmentDefinitionNode>,
): SelectionSetNode {
  const selections: SelectionNode[] = [];
  for (const s of set.selections) {
    if (s.kind === Kind.FIELD) {
      if (!carried.has(s.name.value) && s.name.value !== '__typename') selections.push(s);
      continue;
    }
    const f = s.kind === Kind.FRAGMENT_SPREAD ? fragments.get(s.name.value) : null;
    const inner = withoutCarried(f ? f.selectionSet : (s as InlineFragmentNode).selectionSet, carried, fragments);
    if (!inner.selections.length) continue;
    selections.push({
      kind: Kind.INLINE_FRAGMENT,
      typeCondition: f ? f.typeCondition : (s as InlineFragmentNode).typeCondition,
      directives: s.directives,
      selectionSet: inner,
    });
  }
  return { kind: Kind.SELECTION_SET, selections };
}

/**
 * A pruned payload level (`withoutCarried`: fields and inline fragments only) as root fields of a
 * query, when every field left is `root.field`: each becomes `root.query(<arg>: $variable)` under the
 * same response key, inline fragments keep their directives and lose their type condition (they
 * now apply to Query). Null when anything else is left.
 */
function asRootFields(set: SelectionSetNode, root: RootFetch, argument: ArgumentNode): SelectionSetNode | null {
  const selections: SelectionNode[] = [];
  for (const s of set.selections) {
    if (s.kind === Kind.FIELD) {
      if (s.name.value !== root.field) return null;
      selections.push({
        ...s,
        alias: s.alias ?? (root.query === root.field ? undefined : { kind: Kind.NAME, value: root.field }),
        name: { kind: Kind.NAME, value: root.query },
        arguments: [argument],
      });
    } else if (s.kind === Kind.INLINE_FRAGMENT) {
      const inner = asRootFields(s.selectionSet, root, argument);
      if (!inner) return null;
      selections.push({ ...s, typeCondition: undefined, selectionSet: inner });
    } else return null;
  }
  return { kind: Kind.SELECTION_SET, selections };
}

/** A document without the fragments and variable definitions it no longer uses (GraphQL refuses unused ones). */
function withoutUnused(operation: OperationDefinitionNode, fragments: FragmentDefinitionNode[]): DocumentNode {
  const usedFragments = new Set<string>();
  const byName = new Map(fragments.map((f) => [f.name.value, f]));
  const collect = (node: OperationDefinitionNode | FragmentDefinitionNode) =>
    visit(node, {
      FragmentSpread(s) {
        if (usedFragments.has(s.name.value)) return;
        usedFragments.add(s.name.value);
        const f = byName.get(s.name.value);
        if (f) collect(f);
      },
    });
  collect(operation);
  const kept = fragments.filter((f) => usedFragments.has(f.name.value));
  const usedVariables = new Set<string>();
  for (const node of [operation, ...kept])
    visit(node, {
      Variable(v) {
        usedVariables.add(v.name.value);
      },
      VariableDefinition() {
        return false;
      },
    });
  const variableDefinitions = operation.variableDefinitions?.filter((d) => usedVariables.has(d.variable.name.value));
  return { kind: Kind.DOCUMENT, definitions: [{ ...operation, variableDefinitions }, ...kept] };
}

/** The root value of a local execution: the event's fields, and what was fetched for the others. */
class PayloadSource {
  constructor(
    readonly carried: Carried,
    readonly fetched: Record<string, unknown> | null,
  ) {}
}

/**
 * Resolves the payload type's fields from the event, and everything else
 * from the fetched answer, which is keyed by response key (aliases) as the
 * client's selection is: graphql-js then shapes the payload (aliases,
 * fragments, `@include`, `__typename`, enums) exactly as the gateway would.
 */
const fieldResolver: GraphQLFieldResolver<unknown, unknown> = (source, _args, _ctx, info) => {
  // The root: its one field is the projection, whose value is the payload source.
  if (info.path.prev === undefined) return source;
  if (source instanceof PayloadSource)
    return Object.hasOwn(source.carried, info.fieldName)
      ? source.carried[info.fieldName]
      : source.fetched?.[info.path.key as string];
  return (source as Record<string, unknown> | null)?.[info.path.key as string];
};

let plans = 0;

/**
 * The API schema without anything attached to its fields: the gateway's
 * own schema object may carry resolvers (Apollo Server's, plugins'), which
 * graphql-js would call instead of `fieldResolver`. Built once per schema.
 */
const bareSchemas = new WeakMap<GraphQLSchema, GraphQLSchema>();
function bare(schema: GraphQLSchema): GraphQLSchema {
  let out = bareSchemas.get(schema);
  if (!out) bareSchemas.set(schema, (out = buildSchema(printSchema(schema))));
  return out;
}

/**
 * Plans a subscription's payloads: which fields its selection may ask for,
 * the payload query (operation.ts) as a document to execute locally over an
 * event, and per set of fields an event carries, the query that fetches only
 * the rest (the payload level without the carried fields; deeper levels as
 * the client wrote them). A selection whose pruned query does not validate
 * (an alias of a carried field reused for a fetched one, say) fetches the
 * whole payload query, as before.
 */
export function createPayloadPlan(
  apiSchema: GraphQLSchema,
  document: DocumentNode,
  parsed: ParsedSubscription,
): PayloadPlan {
  const payloadQuery = createPayloadQuery(apiSchema, document, parsed, undefined);
  const schema = bare(apiSchema);
  const local = parse(payloadQuery.query, { noLocation: true });
  const operation = local.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  const fragmentList = local.definitions.filter(
    (d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION,
  );
  const fragments = new Map(fragmentList.map((f) => [f.name.value, f]));
  const root = operation.selectionSet.selections[0] as FieldNode;
  const asked = [...payloadFieldNames(root.selectionSet!, fragments)].filter((n) => n !== '__typename');
  const localValid = validate(schema, local).length === 0;
  const fromRoot = FETCHED_FROM_ROOT[parsed.fieldName];
  /** The variable carrying `fromRoot`'s argument: a name the client's document does not use. */
  const rootVariable = (() => {
    if (!fromRoot) return '';
    const taken = new Set<string>();
    visit(local, {
      Variable(v) {
        taken.add(v.name.value);
      },
    });
    let name = fromRoot.from;
    for (let i = 2; taken.has(name); i++) name = `${fromRoot.from}_${i}`;
    return name;
  })();
  const rootQueryField = fromRoot ? schema.getQueryType()?.getFields()[fromRoot.query] : undefined;
  const rootArgType = rootQueryField?.args.find((a) => a.name === fromRoot!.arg)?.type;
  /**
   * Fetch query per set of carried fields (an event type has one or two such sets): from the root
   * (`FETCHED_FROM_ROOT`) when that is all the event lacks and the event carries its argument,
   * else through the projection with the payload level pruned; null when neither validates.
   */
  const fetchQueries = new Map<string, { text: string; fromRoot: boolean } | null>();
  const fetchQueryFor = (carried: string[], key: string) => {
    let query = fetchQueries.get(key);
    if (query !== undefined) return query;
    query = null;
    const rest = withoutCarried(root.selectionSet!, new Set(carried), fragments);
    if (localValid && fromRoot && rootArgType && carried.includes(fromRoot.from)) {
      const argument: ArgumentNode = {
        kind: Kind.ARGUMENT,
        name: { kind: Kind.NAME, value: fromRoot.arg },
        value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: rootVariable } },
      };
      const selectionSet = asRootFields(rest, fromRoot, argument);
      if (selectionSet) {
        const doc = withoutUnused(
          {
            ...operation,
            variableDefinitions: [
              ...(operation.variableDefinitions ?? []),
              {
                kind: Kind.VARIABLE_DEFINITION,
                variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: rootVariable } },
                type: parseType(String(rootArgType)),
              },
            ],
            selectionSet,
          },
          fragmentList,
        );
        if (validate(schema, doc).length === 0) query = { text: print(doc), fromRoot: true };
      }
    }
    if (!query) {
      const pruned: OperationDefinitionNode = {
        ...operation,
        selectionSet: { ...operation.selectionSet, selections: [{ ...root, selectionSet: rest }] },
      };
      const doc = withoutUnused(pruned, fragmentList);
      if (localValid && validate(schema, doc).length === 0) query = { text: print(doc), fromRoot: false };
    }
    fetchQueries.set(key, query);
    return query;
  };
  const responseKey = parsed.responseKey;
  const carriedOf = CARRIED_BY_EVENT[parsed.fieldName];

  const executeLocally = (
    carried: Carried,
    fetched: Record<string, unknown> | null,
    variables: Record<string, unknown>,
  ) =>
    execute({
      schema,
      document: local,
      variableValues: variables,
      rootValue: new PayloadSource(carried, fetched),
      fieldResolver,
    }) as ExecutionResult;

  return {
    id: `p${++plans}`,
    clientVariables: payloadQuery.clientVariables,
    variables(client, projected) {
      const out: Record<string, unknown> = { ...client };
      for (const { arg, variable } of payloadQuery.eventVariables) out[variable] = projected[arg] ?? null;
      return out;
    },
    needsFetch(e) {
      if (!localValid) return true;
      const carried = carriedOf(e);
      return asked.some((name) => !Object.hasOwn(carried, name));
    },
    local(e, variables) {
      return executeLocally(carriedOf(e), null, variables);
    },
    async fetched(e, variables, fetch) {
      const carried = carriedOf(e);
      const names = Object.keys(carried).sort();
      const query = fetchQueryFor(names, names.join(','));
      if (!query) return fetch(payloadQuery.query, variables);
      if (query.fromRoot) {
        const fetched = await fetch(query.text, { ...variables, [rootVariable]: carried[fromRoot!.from] });
        const answer = fetched.data as Record<string, unknown> | null | undefined;
        const merged = answer ? executeLocally(carried, answer, variables) : null;
        // A null where the payload type has none (an order this viewer may not see, a failed fetch):
        // the whole payload query answers, as the gateway would.
        if (!merged || merged.errors?.length) return fetch(payloadQuery.query, variables);
        if (!fetched.errors) return { data: merged.data };
        // The fetched fields sit at the payload level: their errors' paths start at it.
        const errors = fetched.errors.map(
          (err) =>
            new GraphQLError(err.message, {
              path: err.path ? [responseKey, ...err.path] : undefined,
              extensions: err.extensions,
            }),
        );
        return { data: merged.data, errors };
      }
      const fetched = await fetch(query.text, variables);
      const payload = (fetched.data as Record<string, unknown> | null | undefined)?.[responseKey];
      // Not visible to this viewer (null): as the gateway answered.
      if (payload == null || typeof payload !== 'object') return fetched;
      const merged = executeLocally(carried, payload as Record<string, unknown>, variables);
      // The gateway's answer is complete and null-propagated already; a local error would mean the two
      // disagree on the shape, and then the whole payload query decides.
      if (merged.errors?.length) return fetch(payloadQuery.query, variables);
      return fetched.errors ? { data: merged.data, errors: fetched.errors } : { data: merged.data };
    },
  };
}

/** The client's variables a plan's payloads depend on, picked once per subscription. */
export function selectionVariables(
  plan: PayloadPlan,
  client: Record<string, unknown> | null | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of plan.clientVariables) if (client && Object.hasOwn(client, name)) out[name] = client[name];
  return out;
}

/** A subscribe document parsed, validated and planned: what every subscription sending the same text shares. */
export interface PreparedSubscription {
  document: DocumentNode;
  parsed: ParsedSubscription;
  plan: PayloadPlan;
}

/**
 * Prepared subscribe documents by text and operation name, for the current
 * schema (a new supergraph starts afresh). Only documents that were prepared
 * without error are kept, at most `max`, the least recently asked for going
 * first: a client sending ever new texts costs the parsing it would cost
 * anyway, and evicts nothing still in use (subscriptions hold their own).
 */
export function createPreparedCache(max = 1_000) {
  let schemaOf: GraphQLSchema | null = null;
  const entries = new Map<string, PreparedSubscription>();
  return {
    get<E>(
      schema: GraphQLSchema,
      query: string,
      operationName: string | null | undefined,
      prepare: () => PreparedSubscription | E,
    ): PreparedSubscription | E {
      if (schema !== schemaOf) {
        entries.clear();
        schemaOf = schema;
      }
      const key = `${operationName ?? ''}\u0000${query}`;
      const hit = entries.get(key);
      if (hit) {
        entries.delete(key);
        entries.set(key, hit);
        return hit;
      }
      const prepared = prepare();
      if (prepared && typeof prepared === 'object' && 'plan' in prepared) {
        entries.set(key, prepared);
        if (entries.size > max) entries.delete(entries.keys().next().value!);
      }
      return prepared;
    },
    get size() {
      return entries.size;
    },
  };
}
