import { gql, type TypedDocumentNode } from '@apollo/client';
import type { AuthPayload } from './types.ts';

const AUTH_PAYLOAD = gql`
  fragment AuthPayloadFields on AuthPayload {
    accessToken
    refreshToken
    tokenType
    expiresIn
    scope
  }
`;

export const SIGN_UP: TypedDocumentNode<
  { signUp: AuthPayload },
  { input: { email: string; password: string; name: string } }
> = gql`
  mutation SignUp($input: SignUpInput!) {
    signUp(input: $input) {
      ...AuthPayloadFields
    }
  }
  ${AUTH_PAYLOAD}
`;

export const LOG_IN: TypedDocumentNode<{ logIn: AuthPayload }, { input: { email: string; password: string } }> = gql`
  mutation LogIn($input: LogInInput!) {
    logIn(input: $input) {
      ...AuthPayloadFields
    }
  }
  ${AUTH_PAYLOAD}
`;

/** Sent outside Apollo Client (lib/apollo.ts renews tokens below the link chain). */
export const REFRESH_TOKEN: TypedDocumentNode<{ refreshToken: AuthPayload }, { refreshToken: string }> = gql`
  mutation RefreshToken($refreshToken: String!) {
    refreshToken(refreshToken: $refreshToken) {
      ...AuthPayloadFields
    }
  }
  ${AUTH_PAYLOAD}
`;

export const LOG_OUT: TypedDocumentNode<{ logOut: boolean }, { refreshToken: string }> = gql`
  mutation LogOut($refreshToken: String!) {
    logOut(refreshToken: $refreshToken)
  }
`;
