import {
  Kind,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type ValueNode,
} from 'graphql';

/**
 * How each Subscription field of the contract is fed: the event type it
 * follows on JetStream, and the Query field (same payload type) that
 * resolves one event's payload through the normal federated query plan.
 */
export const SUBSCRIPTION_FIELDS = {
  orderStatusChanged: { eventType: 'orders.status_changed', projection: 'orderStatusChange' },
  myOrderUpdates: { eventType: 'orders.status_changed', projection: 'orderStatusChange' },
  lowStockAlerts: { eventType: 'inventory.low_stock', projection: 'lowStockAlert' },
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
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
  if (!operation) return operationName ? `Unknown operation "${operationName}"` : 'Provide operationName when the document has several operations';
  if (operation.operation !== 'subscription') return 'Only subscriptions run over this socket; send queries and mutations over HTTP';
  const fields = operation.selectionSet.selections.filter((s): s is FieldNode => s.kind === Kind.FIELD && s.name.value !== '__typename');
  const field = fields[0];
  if (!field || fields.length !== 1) return 'A subscription selects exactly one root field';
  const fieldName = field.name.value;
  if (!(fieldName in SUBSCRIPTION_FIELDS)) return `Unknown subscription field ${fieldName}`;
  return { operation, field, fieldName: fieldName as SubscriptionField, responseKey: field.alias?.value ?? fieldName };
}

function literal(value: string | number | boolean | null): ValueNode {
  if (value === null) return { kind: Kind.NULL };
  if (typeof value === 'number') return Number.isInteger(value) ? { kind: Kind.INT, value: String(value) } : { kind: Kind.FLOAT, value: String(value) };
  if (typeof value === 'boolean') return { kind: Kind.BOOLEAN, value };
  return { kind: Kind.STRING, value };
}

/**
 * Rewrites the client's subscription into the query that resolves one
 * event's payload: same name, selection, fragments and directives, with the
 * root field replaced by its projection field called with the event's
 * values. Variables the new document no longer uses are dropped (GraphQL
 * refuses unused variables).
 */
export function payloadQuery(document: DocumentNode, parsed: ParsedSubscription, args: Record<string, string | number | boolean | null>): DocumentNode {
  const root: FieldNode = {
    ...parsed.field,
    alias: { kind: Kind.NAME, value: parsed.responseKey },
    name: { kind: Kind.NAME, value: SUBSCRIPTION_FIELDS[parsed.fieldName].projection },
    arguments: Object.entries(args).map(([name, value]) => ({ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: name }, value: literal(value) })),
  };
  const fragments = document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION);
  const body = { ...parsed.operation, operation: 'query' as const, selectionSet: { ...parsed.operation.selectionSet, selections: [root] } } as OperationDefinitionNode;
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
  const operation: OperationDefinitionNode = { ...body, variableDefinitions: body.variableDefinitions?.filter((d) => used.has(d.variable.name.value)) };
  return { kind: Kind.DOCUMENT, definitions: [operation, ...fragments] };
}

/** Reads a root-field argument, literal or variable. */
export function argument(parsed: ParsedSubscription, name: string, variables: Record<string, unknown> | null | undefined): unknown {
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
