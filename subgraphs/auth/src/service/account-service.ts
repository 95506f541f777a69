import { randomUUID } from 'node:crypto';
import { badInput, isUniqueViolation, unauthenticated, type Logger, type Viewer } from '@orderflow/common';
import type { Db } from '../db.ts';
import {
  MAX_PASSWORD_LENGTH,
  isEmail,
  normalizeEmail,
  normalizePassword,
  validateSignUp,
} from '../domain/credentials.ts';
import { isOAuthError } from '../domain/oauth-error.ts';
import type { PasswordHasher } from './passwords.ts';
import type { TokenPair, TokenService } from './token-service.ts';

export interface SignUpInput {
  email: string;
  password: string;
  name: string;
}

export interface AccountServiceDeps {
  db: Db;
  passwords: PasswordHasher;
  tokens: TokenService;
  log: Logger;
}

/** Customers' accounts and sessions: the GraphQL side of the auth service. */
export function createAccountService({ db, passwords, tokens, log }: AccountServiceDeps) {
  return {
    /**
     * Registers a customer and logs them in. A taken email is a BAD_USER_INPUT
     * on `email`: sign-up cannot help saying that much, and says nothing more
     * (not whose it is, nor whether the password matched), after the same
     * hashing work as a success.
     */
    async signUp(input: SignUpInput): Promise<TokenPair> {
      const problem = validateSignUp(input);
      if (problem) throw badInput(problem.message, problem.field);
      const passwordHash = await passwords.hash(normalizePassword(input.password));
      let user;
      try {
        user = await db.user.create({
          data: { id: randomUUID(), email: normalizeEmail(input.email), name: input.name.trim(), passwordHash },
        });
      } catch (err) {
        if (isUniqueViolation(err))
          throw badInput('This email cannot be used to sign up: an account with it exists. Log in instead.', 'email');
        throw err;
      }
      log.info({ userId: user.id }, 'customer signed up');
      return tokens.startSession(user);
    },

    /**
     * The same answer, after the same scrypt work, for an unknown email and a
     * wrong password: neither the message nor the timing says which it was.
     */
    async logIn({ email, password }: { email: string; password: string }): Promise<TokenPair> {
      const normalized = normalizeEmail(email);
      if (!isEmail(normalized)) throw badInput('Enter a valid email address', 'email');
      const candidate = normalizePassword(password.slice(0, MAX_PASSWORD_LENGTH * 2));
      const user = await db.user.findUnique({ where: { email: normalized } });
      const ok = user ? await passwords.verify(candidate, user.passwordHash) : await passwords.verifyNothing(candidate);
      if (!user || !ok) throw unauthenticated('Invalid email or password');
      return tokens.startSession(user);
    },

    /** Rotation; a used, revoked, expired or unknown refresh token is UNAUTHENTICATED. */
    async refresh(refreshToken: string): Promise<TokenPair> {
      try {
        return await tokens.refresh(refreshToken);
      } catch (err) {
        if (isOAuthError(err)) throw unauthenticated('Invalid refresh token');
        throw err;
      }
    },

    async logOut(viewer: Viewer, refreshToken: string): Promise<boolean> {
      await tokens.logOut(viewer.id, refreshToken, {
        jti: viewer.tokenId,
        expiresAt: viewer.tokenExpiresAt ? new Date(viewer.tokenExpiresAt * 1000) : undefined,
      });
      return true;
    },
  };
}
export type AccountService = ReturnType<typeof createAccountService>;
