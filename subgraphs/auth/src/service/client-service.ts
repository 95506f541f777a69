import type { Db, OAuthClient } from '../db.ts';
import { DEFAULT_RATE_LIMIT_PER_MINUTE, type ClientSeed } from '../domain/clients.ts';
import type { PresentedClient } from '../domain/client-auth.ts';
import { accountKey, type LoginThrottle } from '../domain/login-throttle.ts';
import { invalidClient } from '../domain/oauth-error.ts';
import { isHashQueueFull, type PasswordHasher } from './passwords.ts';

const MAX_CLIENT_ID = 100;
const MAX_SECRET = 500;
/** How long a process trusts a client's rate limit before reading it again. */
const LIMIT_CACHE_MS = 60_000;

/** Client authentication refused by the log-in throttle, before any hash (the routes answer 429). */
export class ClientThrottledError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('too many failed client authentications');
  }
}

export function createClientService({
  db,
  passwords,
  throttle,
  onRefused = () => {},
}: {
  db: Db;
  passwords: PasswordHasher;
  /** The customers' log-in throttle: a client id is an account like any other. */
  throttle: LoginThrottle;
  /** Counts an authentication refused before its hash (auth_password_checks_refused_total). */
  onRefused?: (reason: 'throttled' | 'busy', kind: 'client') => void;
}) {
  const limits = new Map<string, { perMinute: number; until: number }>();

  return {
    /**
     * The client whose credentials these are, or invalid_client. An unknown
     * id costs the same scrypt work as a wrong secret, so timing tells nothing;
     * failures are throttled per client id and address like customers' log-ins
     * (ClientThrottledError, before any hash).
     *
     * @param address The caller's address key (addressKey).
     */
    async authenticate(presented: PresentedClient, address: string): Promise<OAuthClient> {
      const decision = throttle.attempt(accountKey.client(presented.clientId), address);
      if (!decision.allowed) {
        onRefused('throttled', 'client');
        throw new ClientThrottledError(decision.retryAfterSeconds);
      }
      let outcome: 'success' | 'failure' | 'not-checked' = 'not-checked';
      try {
        const plausible = presented.clientId.length <= MAX_CLIENT_ID && presented.secret.length <= MAX_SECRET;
        const client = plausible ? await db.oAuthClient.findUnique({ where: { id: presented.clientId } }) : null;
        const secret = presented.secret.slice(0, MAX_SECRET);
        const ok = client ? await passwords.verify(secret, client.secretHash) : await passwords.verifyNothing(secret);
        outcome = client && ok ? 'success' : 'failure';
        if (!client || !ok) throw invalidClient(presented.basic);
        return client;
      } catch (err) {
        if (isHashQueueFull(err)) onRefused('busy', 'client');
        throw err;
      } finally {
        decision.settle(outcome);
      }
    },

    /** Requests per minute the gateway allows tokens of this client. */
    async rateLimitOf(clientId: string): Promise<number> {
      const hit = limits.get(clientId);
      if (hit && hit.until > Date.now()) return hit.perMinute;
      const client = await db.oAuthClient.findUnique({ where: { id: clientId }, select: { rateLimitPerMinute: true } });
      const perMinute = client?.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT_PER_MINUTE;
      limits.set(clientId, { perMinute, until: Date.now() + LIMIT_CACHE_MS });
      return perMinute;
    },

    /**
     * Registers the configured clients, or brings them in line with the
     * configuration (scopes, limit, and the secret when it changed).
     */
    async seed(clients: ClientSeed[]): Promise<void> {
      for (const c of clients) {
        const existing = await db.oAuthClient.findUnique({ where: { id: c.id } });
        const data = {
          name: c.name,
          allowedScopes: [...c.allowedScopes],
          rateLimitPerMinute: c.rateLimitPerMinute,
          updatedAt: new Date(),
        };
        if (!existing) {
          await db.oAuthClient.create({ data: { id: c.id, ...data, secretHash: await passwords.hash(c.secret) } });
        } else {
          // Rehashed when the secret or the hash parameters changed: a known client costs what an unknown one does.
          const current =
            !passwords.needsRehash(existing.secretHash) && (await passwords.verify(c.secret, existing.secretHash));
          const secretHash = current ? existing.secretHash : await passwords.hash(c.secret);
          await db.oAuthClient.update({ where: { id: c.id }, data: { ...data, secretHash } });
        }
        limits.delete(c.id);
      }
    },
  };
}
export type ClientService = ReturnType<typeof createClientService>;
