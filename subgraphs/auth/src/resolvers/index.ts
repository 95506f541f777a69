import { requireViewer } from '@orderflow/common';
import type { AuthContext } from '../context.ts';
import type { SignUpInput } from '../service/account-service.ts';
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
    signUp: (_: unknown, { input }: { input: SignUpInput }, ctx: AuthContext) => ctx.accounts.signUp(input),
    logIn: (_: unknown, { input }: { input: { email: string; password: string } }, ctx: AuthContext) =>
      ctx.accounts.logIn(input),
    refreshToken: (_: unknown, { refreshToken }: { refreshToken: string }, ctx: AuthContext) =>
      ctx.accounts.refresh(refreshToken),
    logOut: (_: unknown, { refreshToken }: { refreshToken: string }, ctx: AuthContext) =>
      ctx.accounts.logOut(requireViewer(ctx.viewer), refreshToken),
  },
};
