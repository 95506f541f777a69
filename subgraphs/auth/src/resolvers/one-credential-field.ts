import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import { badInput } from '@orderflow/common/server';

/** The root fields that check or set a password: each costs a hash. */
const CREDENTIAL_FIELDS = new Set(['signUp', 'logIn']);

/**
 * signUp and logIn cannot be multiplied by aliases (`a: logIn(…) b: logIn(…)`):
 * an operation holding more than one of them is refused as a whole before
 * any of them runs, so nothing is hashed or created. Fields under a
 * fragment count where it is spread; a field under @skip counts too.
 */
export function assertOneCredentialField(info: GraphQLResolveInfo): void {
  const count = (set: SelectionSetNode): number =>
    set.selections.reduce((n, sel) => {
      if (sel.kind === Kind.FIELD) return n + (CREDENTIAL_FIELDS.has(sel.name.value) ? 1 : 0);
      if (sel.kind === Kind.INLINE_FRAGMENT) return n + count(sel.selectionSet);
      const fragment = info.fragments[sel.name.value];
      return fragment ? n + count(fragment.selectionSet) : n;
    }, 0);
  if (count(info.operation.selectionSet) > 1)
    throw badInput('Send at most one signUp or logIn per operation (no aliases of them)');
}
