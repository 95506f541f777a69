import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, Kind } from 'graphql';
import { ONE_CREDENTIAL_FIELD_MESSAGE, countCredentialFields } from '@orderflow/common/server';
import { ErrorCode } from '@orderflow/contracts';

/** Refuses, before planning, a mutation with more than one signUp or logIn (each costs a password hash). */
export const oneCredentialFieldPlugin: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async didResolveOperation({ document, operation }) {
        if (operation?.operation !== 'mutation') return;
        const fragments = new Map(
          document.definitions.flatMap((d) =>
            d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [],
          ),
        );
        if (countCredentialFields(operation.selectionSet, (name) => fragments.get(name)) > 1)
          throw new GraphQLError(ONE_CREDENTIAL_FIELD_MESSAGE, {
            extensions: { code: ErrorCode.BAD_USER_INPUT, http: { status: 400 } },
          });
      },
    };
  },
};
