import type { GraphQLResolveInfo } from 'graphql';
import { ONE_CREDENTIAL_FIELD_MESSAGE, badInput, countCredentialFields } from '@orderflow/common/server';

/** Refuses an operation that reached auth with more than one signUp or logIn (a direct call, or a plan the gateway split). */
export function assertOneCredentialField(info: GraphQLResolveInfo): void {
  if (countCredentialFields(info.operation.selectionSet, (name) => info.fragments[name]) > 1)
    throw badInput(ONE_CREDENTIAL_FIELD_MESSAGE);
}
