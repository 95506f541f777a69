import { print } from 'graphql';
import { REFRESH_TOKEN } from '../graphql/auth.ts';
import type { AuthPayloadFieldsFragment, RefreshTokenMutation, RefreshTokenMutationVariables } from '../gql/graphql.ts';
import { createOrderflowClient } from './apollo.ts';
import { graphqlHttpUrl, oauthTokenUrl } from './config.ts';
import { createSession, type Tokens } from './session.ts';

export function tokensFromAuthPayload(payload: AuthPayloadFieldsFragment, label: string): Tokens {
  return {
    accessToken: payload.accessToken,
    refreshToken: payload.refreshToken,
    expiresAt: Date.now() + payload.expiresIn * 1000,
    scope: payload.scope,
    label,
  };
}

/** The customer's session: renewed with the refresh token (which rotates). */
export const customer = createOrderflowClient(
  createSession({
    storageKey: 'orderflow.customer',
    async renewTokens(current) {
      if (!current.refreshToken) return null;
      const variables: RefreshTokenMutationVariables = { refreshToken: current.refreshToken };
      const res = await fetch(graphqlHttpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: print(REFRESH_TOKEN), variables }),
      });
      const body = (await res.json()) as { data?: RefreshTokenMutation | null };
      const payload = body.data?.refreshToken;
      return payload ? tokensFromAuthPayload(payload, current.label) : null;
    },
  }),
);

/**
 * The operator console's client secret, kept in memory only so that an
 * expired token can be renewed in this tab; after a reload the operator
 * signs in again once the stored token expires.
 */
let operatorCredentials: { clientId: string; clientSecret: string } | null = null;

export class OAuthError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** RFC 6749 client-credentials grant at the gateway's /oauth/token. */
async function clientCredentials(clientId: string, clientSecret: string): Promise<Tokens> {
  const res = await fetch(oauthTokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
    }).toString(),
  });
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok || typeof body.access_token !== 'string') {
    const code = typeof body.error === 'string' ? body.error : `http_${res.status}`;
    const description =
      typeof body.error_description === 'string'
        ? body.error_description
        : code === 'invalid_client'
          ? 'Unknown client or wrong secret'
          : `Sign-in failed (${code})`;
    throw new OAuthError(code, description);
  }
  return {
    accessToken: body.access_token,
    expiresAt: Date.now() + Number(body.expires_in ?? 300) * 1000,
    scope: typeof body.scope === 'string' ? body.scope : '',
    label: clientId,
  };
}

export const operator = createOrderflowClient(
  createSession({
    storageKey: 'orderflow.operator',
    async renewTokens() {
      if (!operatorCredentials) return null;
      return clientCredentials(operatorCredentials.clientId, operatorCredentials.clientSecret);
    },
  }),
);

export async function signInOperator(clientId: string, clientSecret: string) {
  const tokens = await clientCredentials(clientId, clientSecret);
  operatorCredentials = { clientId, clientSecret };
  operator.session.set(tokens);
}

export function signOutOperator() {
  operatorCredentials = null;
  operator.session.set(null);
}
