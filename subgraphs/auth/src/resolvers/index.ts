import type { AuthContext } from '../context.ts';

/** Thin resolvers: arguments → one service call → result. */
export const resolvers = {
  Query: {
    me: (_: unknown, __: unknown, ctx: AuthContext) =>
      ctx.viewer
        ? { id: ctx.viewer.id, email: ctx.viewer.email ?? null, clientId: ctx.viewer.clientId, scopes: [...ctx.viewer.scopes].sort() }
        : null,
  },
};
