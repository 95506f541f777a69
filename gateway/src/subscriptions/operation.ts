import {
  Kind,
  OperationTypeNode,
  parseType,
  print,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type VariableDefinitionNode,
} from 'graphql';

/**
 * How each Subscription field of the contract is fed: the event type it
 * follows on JetStream, and the Query field (same payload type) that
 * resolves one event's payload through the normal federated query plan,
 * with the arguments an event gives it.
 */
export const SUBSCRIPTION_FIELDS = {
  orderStatusChanged: { eventType: 'orders.status_changed', projection: 'orderStatusChange', args: ['id'] },
  myOrderUpdates: { eventType: 'orders.status_changed', projection: 'orderStatusChange', args: ['id'] },
  lowStockAlerts: {
    eventType: 'inventory.low_stock',
    projection: 'lowStockAlert',
    args: ['productId', 'availableQuantity', 'threshold', 'occurredAt'],
  },
} as const;
export type SubscriptionField = keyof typeof SUBSCRIPTION_FIELDS;

export interface ParsedSubscription {
  operation: OperationDefinitionNode;
  field: FieldNode;
  fieldName: SubscriptionField;
  /** The key of the payload in `data` (alias or field name). */
  responseKey: string;
}

/** The one root field of a subscription operation (validation guarantees there is exactly one). */
export function parseSubscription(document: DocumentNode, operationName?: string | null): ParsedSubscription | string {
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  const operation = operationName
    ? operations.find((o) => o.name?.value === operationName)
    : operations.length === 1
      ? operations[0]
      : undefined;
  if (!operation)
    return operationName
      ? `Unknown operation "${operationName}"`
      : 'Provide operationName when the document has several operations';
  if (operation.operation !== 'subscription')
    return 'Only subscriptions run over this socket; send queries and mutations over HTTP';
  const fields = operation.selectionSet.selections.filter(
    (s): s is FieldNode => s.kind === Kind.FIELD && s.name.value !== '__typename',
  );
  const field = fields[0];
  if (!field || fields.length !== 1) return 'A subscription selects exactly one root field';
  const fieldName = field.name.value;
  if (!(fieldName in SUBSCRIPTION_FIELDS)) return `Unknown subscription field ${fieldName}`;
  return { operation, field, fieldName: fieldName as SubscriptionField, responseKey: field.alias?.value ?? fieldName };
}

/** The projection's arguments for one event (`{ id: changeId }`, the low-stock alert's fields). */
export type ProjectionArgs = Record<string, string | number | boolean | null>;

/**
 * One subscription's payload query: built once at subscribe, run for every
 * event with that event's values as variables.
 */
export interface PayloadQuery {
  /**
   * The query's text, the same for every event: Apollo's document cache and
   * the gateway's query-plan cache hit after the first payload (a document
   * with the event's values written in as literals would be parsed,
   * validated and planned again for every event).
   */
  query: string;
  /** The variables of one event's query: the client's that the query still uses, and the event's values. */
  variables(args: ProjectionArgs): Record<string, unknown>;
  /** The client's variables the query still uses (the others change nothing in a payload). */
  clientVariables: string[];
  /** The query's variable for each projection argument (the event's values). */
  eventVariables: { arg: string; variable: string }[];
}

/**
 * Rewrites the client's subscription into the query that resolves each
 * event's payload: same name, selection, fragments and directives, with the
 * root field replaced by its projection field, whose arguments are
 * variables typed as the API schema declares them (named after the argument,
 * suffixed when the client's document already has a variable of that name).
 * The client's variables the new document no longer uses are dropped
 * (GraphQL refuses unused variables).
 */
export function createPayloadQuery(
  schema: GraphQLSchema,
  document: DocumentNode,
  parsed: ParsedSubscription,
  clientVariables: Record<string, unknown> | null | undefined,
): PayloadQuery {
  const { projection, args } = SUBSCRIPTION_FIELDS[parsed.fieldName];
  const declared = schema.getQueryType()?.getFields()[projection]?.args ?? [];
  const taken = new Set<string>();
  visit(document, {
    Variable(v) {
      taken.add(v.name.value);
    },
  });
  const fresh = (name: string) => {
    let candidate = name;
    for (let i = 2; taken.has(candidate); i++) candidate = `${name}_${i}`;
    taken.add(candidate);
    return candidate;
  };
  const eventVariables = args.map((name) => {
    const arg = declared.find((a) => a.name === name);
    if (!arg) throw new Error(`The API schema has no argument ${name} on Query.${projection}`);
    return { arg: name, variable: fresh(name), type: parseType(String(arg.type)) };
  });

  const root: FieldNode = {
    ...parsed.field,
    alias: { kind: Kind.NAME, value: parsed.responseKey },
    name: { kind: Kind.NAME, value: projection },
    arguments: eventVariables.map(({ arg, variable }) => ({
      kind: Kind.ARGUMENT,
      name: { kind: Kind.NAME, value: arg },
      value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: variable } },
    })),
  };
  const fragments = document.definitions.filter(
    (d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION,
  );
  const body = {
    ...parsed.operation,
    operation: OperationTypeNode.QUERY,
    selectionSet: { ...parsed.operation.selectionSet, selections: [root] },
  } as OperationDefinitionNode;
  const used = new Set<string>();
  for (const node of [body, ...fragments]) {
    visit(node, {
      Variable(v) {
        used.add(v.name.value);
      },
      VariableDefinition() {
        return false; // a definition is not a use
      },
    });
  }
  const kept = (body.variableDefinitions ?? []).filter((d) => used.has(d.variable.name.value));
  const operation: OperationDefinitionNode = {
    ...body,
    variableDefinitions: [
      ...kept,
      ...eventVariables.map(({ variable, type }): VariableDefinitionNode => ({
        kind: Kind.VARIABLE_DEFINITION,
        variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: variable } },
        type,
      })),
    ],
  };
  const query = print({ kind: Kind.DOCUMENT, definitions: [operation, ...fragments] });
  const fromClient: Record<string, unknown> = {};
  for (const d of kept) {
    const name = d.variable.name.value;
    if (clientVariables && Object.hasOwn(clientVariables, name)) fromClient[name] = clientVariables[name];
  }
  return {
    query,
    clientVariables: kept.map((d) => d.variable.name.value),
    eventVariables: eventVariables.map(({ arg, variable }) => ({ arg, variable })),
    variables(values) {
      const out = { ...fromClient };
      for (const { arg, variable } of eventVariables) out[variable] = values[arg] ?? null;
      return out;
    },
  };
}

/** Reads a root-field argument, literal or variable. */
export function argument(
  parsed: ParsedSubscription,
  name: string,
  variables: Record<string, unknown> | null | undefined,
): unknown {
  const arg = parsed.field.arguments?.find((a) => a.name.value === name);
  if (!arg) return undefined;
  const v = arg.value;
  if (v.kind === Kind.VARIABLE) return variables?.[v.name.value];
  if (v.kind === Kind.NULL) return null;
  if (v.kind === Kind.STRING || v.kind === Kind.ENUM) return v.value;
  if (v.kind === Kind.INT || v.kind === Kind.FLOAT) return v.value;
  if (v.kind === Kind.BOOLEAN) return v.value;
  return undefined;
}
