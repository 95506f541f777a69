import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, Kind, type DocumentNode, type SelectionSetNode } from 'graphql';
import { ErrorCode } from '@orderflow/contracts';

/** The auth service's root fields that check or set a password: each one costs a hash. */
const CREDENTIAL_FIELDS = new Set(['signUp', 'logIn']);

/** signUp and logIn fields of an operation's root, counted where fragments are spread. */
function countCredentialFields(document: DocumentNode, root: SelectionSetNode): number {
  const fragments = new Map(
    document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])),
  );
  const count = (set: SelectionSetNode): number =>
    set.selections.reduce((n, sel) => {
      if (sel.kind === Kind.FIELD) return n + (CREDENTIAL_FIELDS.has(sel.name.value) ? 1 : 0);
      if (sel.kind === Kind.INLINE_FRAGMENT) return n + count(sel.selectionSet);
      const fragment = fragments.get(sel.name.value);
      return fragment ? n + count(fragment.selectionSet) : n;
    }, 0);
  return count(root);
}

/**
 * At most one signUp or logIn per operation: aliases would otherwise turn
 * one request into dozens of hashes (and accounts). The auth service refuses
 * such an operation too, but only here is it seen whole: the query planner
 * splits `a: signUp … x: cancelOrder … b: signUp` into two fetches to auth.
 * Refused before planning (BAD_USER_INPUT, HTTP 400), so nothing runs.
 */
export const oneCredentialFieldPlugin: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async didResolveOperation({ document, operation }) {
        if (operation?.operation !== 'mutation') return;
        if (countCredentialFields(document, operation.selectionSet) > 1)
          throw new GraphQLError('Send at most one signUp or logIn per operation (no aliases of them)', {
            extensions: { code: ErrorCode.BAD_USER_INPUT, http: { status: 400 } },
          });
      },
    };
  },
};
