import { Kind, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';

/** The mutations that check a password: an operation may carry one of them at most (no aliases). */
export const CREDENTIAL_FIELDS: ReadonlySet<string> = new Set(['signUp', 'logIn']);

/** The message of the refusal, the same at the gateway and in the auth service. */
export const ONE_CREDENTIAL_FIELD_MESSAGE = 'Send at most one signUp or logIn per operation (no aliases of them)';

/**
 * How many credential fields a selection set asks for, through inline fragments and named fragments
 * (`fragment` looks a fragment up by name). Used by the gateway on the whole operation and by the auth
 * service on the part the query planner sent it.
 */
export function countCredentialFields(
  set: SelectionSetNode,
  fragment: (name: string) => FragmentDefinitionNode | undefined,
): number {
  return set.selections.reduce((n, sel) => {
    if (sel.kind === Kind.FIELD) return n + (CREDENTIAL_FIELDS.has(sel.name.value) ? 1 : 0);
    if (sel.kind === Kind.INLINE_FRAGMENT) return n + countCredentialFields(sel.selectionSet, fragment);
    const def = fragment(sel.name.value);
    return def ? n + countCredentialFields(def.selectionSet, fragment) : n;
  }, 0);
}
