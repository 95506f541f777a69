import type { ApolloServerPlugin } from '@apollo/server';
import {
  GraphQLError,
  getNamedType,
  getNullableType,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ParseOptions,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
  visit,
  BREAK,
} from 'graphql';
import { ErrorCode } from '@orderflow/contracts';

/**
 * Limits on the shape of one GraphQL operation, checked by the gateway before
 * it plans the operation: a refused operation never reaches a subgraph.
 * Fragments count where they are spread (a fragment spread ten times counts
 * ten times), so a fragment bomb is measured at its real size without being
 * expanded.
 */
export interface OperationLimits {
  /** Deepest nesting of fields (a root field is depth 1; fragments add none). Default 12; the storefront's deepest operation has 6. */
  maxDepth: number;
  /**
   * Largest estimated cost: every field costs 1, times the size of each list
   * it sits in. A list's size is its `first` argument (taken from the
   * request's variables when it is one, else the argument's default, else
   * `maxPageSize`); the `edges` and `nodes` of a connection add nothing more;
   * any other list counts as `defaultListSize`. Default 10,000: the
   * storefront's order list at the largest page (100) costs about 6,500.
   */
  maxCost: number;
  /** Aliased fields in an operation. Default 30: aliases are how one request asks for the same field thousands of times. */
  maxAliases: number;
  /** Directives in an operation. Default 50. */
  maxDirectives: number;
  /**
   * Lexical tokens in a document, enforced by the parser (`parse(…, { maxTokens })`)
   * before anything else is done with it. Default 5,000; the standard
   * introspection query has under 200, the storefront's largest operation
   * about 150.
   */
  maxTokens: number;
  /** Size assumed for a list field without `first` (order items, status history…). Default 10. */
  defaultListSize: number;
  /** Size assumed for a `first` that is not a known integer: the largest page a subgraph serves. Default 100. */
  maxPageSize: number;
}

export const DEFAULT_OPERATION_LIMITS: OperationLimits = {
  maxDepth: 12,
  maxCost: 10_000,
  maxAliases: 30,
  maxDirectives: 50,
  maxTokens: 5_000,
  defaultListSize: 10,
  maxPageSize: 100,
};

/** What a selection set amounts to once its fragments are counted where they are spread. */
export interface OperationMeasure {
  depth: number;
  cost: number;
  aliases: number;
  directives: number;
}

const ZERO: OperationMeasure = { depth: 0, cost: 0, aliases: 0, directives: 0 };

/**
 * Measures one operation against the schema. Linear in the document's size:
 * each fragment is measured once and its measure reused at every spread.
 * Fields the schema does not know and fragment cycles count as nothing (the
 * standard validation rules report those); introspection fields count as
 * nothing too (they are refused in production, and bounded by the schema).
 */
export function measureOperation(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragment: (name: string) => FragmentDefinitionNode | undefined | null,
  {
    defaultListSize,
    maxPageSize,
    variables = {},
    onVariable,
  }: Pick<OperationLimits, 'defaultListSize' | 'maxPageSize'> & {
    variables?: Record<string, unknown>;
    /** Called when the measure reads a variable (a `first: $n`): then it holds for these variables only. */
    onVariable?: () => void;
  },
): OperationMeasure {
  const memo = new Map<string, OperationMeasure | null>(); // null: being measured (a cycle)
  const variableDefaults = new Map(
    (operation.variableDefinitions ?? []).map((v) => [
      v.variable.name.value,
      v.defaultValue?.kind === Kind.INT ? Number(v.defaultValue.value) : undefined,
    ]),
  );

  const pageSize = (value: unknown) =>
    typeof value === 'number' && Number.isInteger(value) ? Math.max(0, value) : maxPageSize;

  function multiplier(node: FieldNode, def: GraphQLField<unknown, unknown>): number {
    const firstArg = def.args.find((a) => a.name === 'first');
    if (firstArg) {
      const given = node.arguments?.find((a) => a.name.value === 'first')?.value;
      if (!given) return pageSize(firstArg.defaultValue);
      if (given.kind === Kind.INT) return pageSize(Number(given.value));
      if (given.kind === Kind.VARIABLE) {
        onVariable?.();
        return pageSize(variables[given.name.value] ?? variableDefaults.get(given.name.value) ?? firstArg.defaultValue);
      }
      return maxPageSize;
    }
    if (!isListType(getNullableType(def.type))) return 1;
    // A connection's edges (or nodes) are the page its `first` already counted.
    return node.name.value === 'edges' || node.name.value === 'nodes' ? 1 : defaultListSize;
  }

  function fieldOf(parent: GraphQLCompositeType, name: string): GraphQLField<unknown, unknown> | undefined {
    return isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
  }

  function spread(name: string): OperationMeasure {
    const known = memo.get(name);
    if (known !== undefined) return known ?? ZERO;
    const def = fragment(name);
    const type = def && schema.getType(def.typeCondition.name.value);
    if (!def || !type || !isCompositeType(type)) return ZERO;
    memo.set(name, null);
    const m = selectionSet(def.selectionSet, type);
    const own = { ...m, directives: m.directives + (def.directives?.length ?? 0) };
    memo.set(name, own);
    return own;
  }

  function selectionSet(set: SelectionSetNode, parent: GraphQLCompositeType): OperationMeasure {
    const out = { ...ZERO };
    const add = (m: OperationMeasure) => {
      out.depth = Math.max(out.depth, m.depth);
      out.cost += m.cost;
      out.aliases += m.aliases;
      out.directives += m.directives;
    };
    for (const s of set.selections) {
      const directives = s.directives?.length ?? 0;
      if (s.kind === Kind.FRAGMENT_SPREAD) {
        const f = spread(s.name.value);
        add({ ...f, directives: f.directives + directives });
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        const type = s.typeCondition ? schema.getType(s.typeCondition.name.value) : parent;
        const inner = type && isCompositeType(type) ? selectionSet(s.selectionSet, type) : ZERO;
        add({ ...inner, directives: inner.directives + directives });
      } else {
        const name = s.name.value;
        if (name.startsWith('__') && name !== '__typename') continue;
        const own: OperationMeasure = { depth: 1, cost: 1, aliases: s.alias ? 1 : 0, directives };
        const def = fieldOf(parent, name);
        const child = def && getNamedType(def.type);
        if (def && s.selectionSet && child && isCompositeType(child)) {
          const inner = selectionSet(s.selectionSet, child);
          own.depth += inner.depth;
          own.cost += inner.cost * multiplier(s, def);
          // Aliases and directives are what the client wrote, not what the data will be.
          own.aliases += inner.aliases;
          own.directives += inner.directives;
        }
        add(own);
      }
    }
    return out;
  }

  const root = schema.getRootType(operation.operation);
  if (!root) return ZERO;
  const m = selectionSet(operation.selectionSet, root);
  return { ...m, directives: m.directives + (operation.directives?.length ?? 0) };
}

const formatCount = (n: number) => (Number.isFinite(n) && n < 1e15 ? String(n) : 'more than 10^15');
const operationLabel = (op: OperationDefinitionNode) => (op.name ? `Operation "${op.name.value}"` : 'The operation');

/**
 * Depth, aliases and directives: properties of the document alone, checked
 * with the other validation rules (Apollo Server answers
 * GRAPHQL_VALIDATION_FAILED, HTTP 400). Also used by the subscription server.
 */
export function createOperationShapeRule(
  limits: Pick<OperationLimits, 'maxDepth' | 'maxAliases' | 'maxDirectives' | 'defaultListSize' | 'maxPageSize'>,
): ValidationRule {
  return (context: ValidationContext) => ({
    OperationDefinition(node) {
      const m = measureOperation(context.getSchema(), node, (n) => context.getFragment(n), limits);
      const refuse = (limit: string, message: string) =>
        context.reportError(new GraphQLError(message, { nodes: [node], extensions: { limit } }));
      const what = operationLabel(node);
      if (m.depth > limits.maxDepth)
        refuse('depth', `${what} is nested ${m.depth} levels deep; at most ${limits.maxDepth} are allowed`);
      if (m.aliases > limits.maxAliases)
        refuse('aliases', `${what} uses ${formatCount(m.aliases)} aliases; at most ${limits.maxAliases} are allowed`);
      if (m.directives > limits.maxDirectives)
        refuse(
          'directives',
          `${what} uses ${formatCount(m.directives)} directives; at most ${limits.maxDirectives} are allowed`,
        );
      // Measured whole: this rule need not walk the operation any further.
      return false;
    },
  });
}

/**
 * The estimated cost of the operation a request runs, with its variables
 * (`first: $n` counts as the n the client sent), or an error to refuse it with.
 */
export function checkOperationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
  limits: Pick<OperationLimits, 'maxCost' | 'defaultListSize' | 'maxPageSize'>,
): GraphQLError | null {
  const { cost } = measureOperation(schema, operation, fragmentsOf(document), {
    ...limits,
    variables: variables ?? {},
  });
  return costError(operation, cost, limits);
}

function fragmentsOf(document: DocumentNode): (name: string) => FragmentDefinitionNode | undefined {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  return (name) => fragments.get(name);
}

function costError(
  operation: OperationDefinitionNode,
  cost: number,
  limits: Pick<OperationLimits, 'maxCost' | 'defaultListSize'>,
): GraphQLError | null {
  if (cost <= limits.maxCost) return null;
  return new GraphQLError(
    `${operationLabel(operation)} is too expensive: estimated cost ${formatCount(cost)}, at most ${limits.maxCost} allowed ` +
      `(a field counts once per item of each list around it: its first argument, or ${limits.defaultListSize} for a list without one)`,
    {
      nodes: [operation],
      extensions: { code: ErrorCode.GRAPHQL_VALIDATION_FAILED, limit: 'cost', http: { status: 400 } },
    },
  );
}

/** Where a value holds a string with U+0000: the path of the first one, or null. */
function nulPath(value: unknown, path: string): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nulPath(value[i], `${path}[${i}]`);
      if (found) return found;
    }
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const found = nulPath(v, `${path}.${k}`);
      if (found) return found;
    }
  }
  return null;
}

// Apollo Server hands the same parsed document to every request with the same text: looked at once.
const documentsWithNul = new WeakMap<DocumentNode, boolean>();

function hasNulString(document: DocumentNode): boolean {
  let found = documentsWithNul.get(document);
  if (found === undefined) {
    found = false;
    visit(document, {
      StringValue(node) {
        if (!node.value.includes('\u0000')) return;
        found = true;
        return BREAK;
      },
    });
    documentsWithNul.set(document, found);
  }
  return found;
}

/**
 * Refuses text with a NUL character (U+0000) anywhere in the variables or in
 * the document's string literals. PostgreSQL cannot store it in a text
 * column, so it would otherwise fail deep in a subgraph as an internal error;
 * no field of this API has a use for it.
 */
export function checkNulCharacters(
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
): GraphQLError | null {
  let where = variables ? nulPath(variables, '$') : null;
  if (!where && hasNulString(document)) where = 'a string in the document';
  if (!where) return null;
  return new GraphQLError(`Text may not contain NUL characters (U+0000): ${where === '$' ? 'the variables' : where}`, {
    extensions: { code: ErrorCode.BAD_USER_INPUT, http: { status: 400 } },
  });
}

/**
 * The checks that need the operation's variables, run on every operation
 * once it is valid and before it is planned: its estimated cost
 * (`checkOperationCost`) and text with NUL characters
 * (`checkNulCharacters`). Queries and mutations get them from the plugin of
 * `operationLimitOptions`, subscriptions at subscribe.
 */
export function createOperationCheck(limits: Pick<OperationLimits, 'maxCost' | 'defaultListSize' | 'maxPageSize'>) {
  // The cost of an operation that reads no variable (no `first: $n`) is the same on every request: measured
  // once per schema and parsed operation (Apollo Server reuses both while the query text is the same).
  const fixedCosts = new WeakMap<GraphQLSchema, WeakMap<OperationDefinitionNode, number>>();
  return (
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Record<string, unknown> | undefined,
  ): GraphQLError | null => {
    let costs = fixedCosts.get(schema);
    if (!costs) fixedCosts.set(schema, (costs = new WeakMap()));
    let cost = costs.get(operation);
    if (cost === undefined) {
      let readsVariables = false;
      cost = measureOperation(schema, operation, fragmentsOf(document), {
        ...limits,
        variables: variables ?? {},
        onVariable: () => (readsVariables = true),
      }).cost;
      if (!readsVariables) costs.set(operation, cost);
    }
    return costError(operation, cost, limits) ?? checkNulCharacters(document, variables);
  };
}

/**
 * The Apollo Server options that enforce the limits:
 *
 * - the parser's token budget (GRAPHQL_PARSE_FAILED, HTTP 400);
 * - the shape rule among the validation rules;
 * - a plugin that runs `checkOperation` (cost, NUL characters) once the
 *   operation and its variables are known (`didResolveOperation`: after
 *   validation, before the query plan); the subscription server runs the
 *   same `checkOperation` at subscribe;
 * - batched requests (a JSON array of operations) refused, and CSRF
 *   prevention on (a "simple" request — text/plain or form content type, or
 *   a GET without a preflight header — is refused before it is parsed). Both
 *   are Apollo Server's defaults, written out so that neither is lost to a
 *   changed default.
 */
export function operationLimitOptions<Ctx extends object>(
  limits: OperationLimits,
): {
  parseOptions: ParseOptions;
  validationRules: ValidationRule[];
  plugin: ApolloServerPlugin<Ctx>;
  checkOperation: ReturnType<typeof createOperationCheck>;
  allowBatchedHttpRequests: false;
  csrfPrevention: true;
} {
  const checkOperation = createOperationCheck(limits);
  return {
    parseOptions: { maxTokens: limits.maxTokens },
    validationRules: [createOperationShapeRule(limits)],
    checkOperation,
    plugin: {
      async requestDidStart() {
        return {
          async didResolveOperation({ schema, document, operation, request }) {
            if (!operation) return;
            const refused = checkOperation(schema, document, operation, request.variables);
            if (refused) throw refused;
          },
        };
      },
    },
    allowBatchedHttpRequests: false,
    csrfPrevention: true,
  };
}
