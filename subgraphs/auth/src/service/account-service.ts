import { randomUUID } from 'node:crypto';
import { type Logger } from '@orderflow/common/observability';
import { appError, badInput, isUniqueViolation, unauthenticated, type Viewer } from '@orderflow/common/server';
import { ErrorCode } from '@orderflow/contracts';
import type { Db } from '../db.ts';
import {
  MAX_PASSWORD_LENGTH,
  isEmail,
  normalizeEmail,
  normalizePassword,
  validateSignUp,
} from '../domain/credentials.ts';
import {
  accountKey,
  type AttemptOutcome,
  type LoginThrottle,
  type SignUpThrottle,
  type ThrottleDecision,
} from '../domain/login-throttle.ts';
import { isOAuthError } from '../domain/oauth-error.ts';
import { isHashQueueFull, type PasswordHasher } from './passwords.ts';
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
  loginThrottle: LoginThrottle;
  signUpThrottle: SignUpThrottle;
  /** Counts a check refused before its hash (auth_password_checks_refused_total). */
  onRefused?: (reason: 'throttled' | 'busy', kind: 'login' | 'signup') => void;
}

/** Too many failed log-ins (or sign-ups): refused before any hash; `retryAfter` is in seconds. */
const rateLimited = (what: string, retryAfter: number) =>
  appError(ErrorCode.RATE_LIMITED, `Too many ${what}; retry in ${retryAfter} s`, { retryAfter });

/** The hashing queue is full: nothing was checked, nothing written; retry in a moment. */
const hashingBusy = (retryAfter: number) =>
  appError(ErrorCode.SERVICE_UNAVAILABLE, `Too many log-ins at once; retry in ${retryAfter} s`, { retryAfter });

/**
 * Runs `check` as the attempt the throttle allowed, settling it with the
 * outcome `check` reports; an error before that (a full hashing queue, the
 * database down) settles it as not checked, so it costs the caller nothing.
 */
async function throttled<T>(
  decision: ThrottleDecision,
  refused: (retryAfter: number) => Error,
  check: (report: (outcome: AttemptOutcome) => void) => Promise<T>,
  onRefused: (reason: 'throttled' | 'busy') => void,
): Promise<T> {
  if (!decision.allowed) {
    onRefused('throttled');
    throw refused(decision.retryAfterSeconds);
  }
  let outcome: AttemptOutcome = 'not-checked';
  try {
    return await check((o) => (outcome = o));
  } catch (err) {
    if (isHashQueueFull(err)) {
      onRefused('busy');
      throw hashingBusy(err.retryAfterSeconds);
    }
    throw err;
  } finally {
    decision.settle(outcome);
  }
}

/** Customers' accounts and sessions: the GraphQL side of the auth service. */
export function createAccountService({
  db,
  passwords,
  tokens,
  log,
  loginThrottle,
  signUpThrottle,
  onRefused = () => {},
}: AccountServiceDeps) {
  /**
   * Rehashes a password made with older parameters, now that it is known
   * good: after a raise of PASSWORD_HASH_COST every account moves to the new
   * cost at its next log-in. Best effort: a busy queue or a failed write
   * leaves it for next time, and the log-in goes ahead.
   */
  async function upgradeHash(userId: string, password: string) {
    try {
      const passwordHash = await passwords.hash(password);
      await db.user.update({ where: { id: userId }, data: { passwordHash } });
      log.info({ userId }, 'password rehashed with the current parameters');
    } catch (err) {
      if (!isHashQueueFull(err)) log.warn({ userId, err: (err as Error).message }, 'rehashing a password failed');
    }
  }

  return {
    /**
     * Registers a customer and logs them in. A taken email is a BAD_USER_INPUT
     * on `email`: sign-up cannot help saying that much, and says nothing more
     * (not whose it is, nor whether the password matched), after the same
     * hashing work as a success. Sign-ups per address are limited
     * (RATE_LIMITED, refused before the hash).
     */
    async signUp(input: SignUpInput, address: string): Promise<TokenPair> {
      const problem = validateSignUp(input);
      if (problem) throw badInput(problem.message, problem.field);
      const passwordHash = await throttled(
        signUpThrottle.attempt(address),
        (s) => rateLimited('sign-ups from this address', s),
        async (report) => {
          const hash = await passwords.hash(normalizePassword(input.password));
          report('success');
          return hash;
        },
        (reason) => onRefused(reason, 'signup'),
      );
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
     * Failures are throttled per email (known or not) and address
     * (RATE_LIMITED with retryAfter, before any hash: login-throttle.ts).
     */
    async logIn({ email, password }: { email: string; password: string }, address: string): Promise<TokenPair> {
      const normalized = normalizeEmail(email);
      if (!isEmail(normalized)) throw badInput('Enter a valid email address', 'email');
      const candidate = normalizePassword(password.slice(0, MAX_PASSWORD_LENGTH * 2));
      const user = await throttled(
        loginThrottle.attempt(accountKey.customer(normalized), address),
        (s) => rateLimited('log-in attempts', s),
        async (report) => {
          const found = await db.user.findUnique({ where: { email: normalized } });
          const ok = found
            ? await passwords.verify(candidate, found.passwordHash)
            : await passwords.verifyNothing(candidate);
          report(found && ok ? 'success' : 'failure');
          return ok ? found : null;
        },
        (reason) => onRefused(reason, 'login'),
      );
      if (!user) throw unauthenticated('Invalid email or password');
      if (passwords.needsRehash(user.passwordHash)) await upgradeHash(user.id, candidate);
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
