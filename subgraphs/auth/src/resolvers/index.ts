import { requireViewer } from '@orderflow/common/server';
import type { AuthContext } from '../context.ts';
import type { GraphQLResolveInfo } from 'graphql';
import type { SignUpInput } from '../service/account-service.ts';
import { assertOneCredentialField } from './one-credential-field.ts';
import type { Resolvers } from './types.generated.ts';

/** Thin resolvers: arguments → one service call → result. Access rules live in schema.graphql. */
export const resolvers: Resolvers = {
  Query: {
    me: (_: unknown, __: unknown, ctx: AuthContext) =>
      ctx.viewer
        ? {
            id: ctx.viewer.id,
            email: ctx.viewer.email ?? null,
            clientId: ctx.viewer.clientId,
            scopes: [...ctx.viewer.scopes].sort(),
          }
        : null,
  },
  Mutation: {
    signUp: (_: unknown, { input }: { input: SignUpInput }, ctx: AuthContext, info: GraphQLResolveInfo) => {
      assertOneCredentialField(info);
      return ctx.accounts.signUp(input, ctx.clientAddress);
    },
    logIn: (
      _: unknown,
      { input }: { input: { email: string; password: string } },
      ctx: AuthContext,
      info: GraphQLResolveInfo,
    ) => {
      assertOneCredentialField(info);
      return ctx.accounts.logIn(input, ctx.clientAddress);
    },
    refreshToken: (_: unknown, { refreshToken }: { refreshToken: string }, ctx: AuthContext) =>
      ctx.accounts.refresh(refreshToken),
    logOut: (_: unknown, { refreshToken }: { refreshToken: string }, ctx: AuthContext) =>
      ctx.accounts.logOut(requireViewer(ctx.viewer), refreshToken),
  },
};
