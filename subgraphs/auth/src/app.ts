import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'graphql';
import type { KV } from 'nats';
import { openRevocationBucket } from '@orderflow/common/messaging';
import { createLogger, type Logger } from '@orderflow/common/observability';
import { createPasswordCheckRefusals } from './metrics.ts';
import { startSubgraph } from '@orderflow/common/server';
import type { AuthConfig } from './config.ts';
import type { AuthContext } from './context.ts';
import { createDb } from './db.ts';
import { addressKey, createInFlight, createLoginThrottle, createSignUpThrottle } from './domain/login-throttle.ts';
import { oauthRoutes } from './http/oauth-routes.ts';
import { resolvers } from './resolvers/index.ts';
import { createAccountService } from './service/account-service.ts';
import { createClientService } from './service/client-service.ts';
import { createHousekeeping } from './service/housekeeping.ts';
import { createPasswordHasher } from './service/passwords.ts';
import { createRevocationRelay } from './service/revocations.ts';
import { createSigningKeyStore, rotateSigningKey, type SigningKeyStore } from './service/signing-keys.ts';
import { createTokenService } from './service/token-service.ts';

export const typeDefs = parse(readFileSync(fileURLToPath(new URL('./schema.graphql', import.meta.url)), 'utf8'));

export async function startAuth(config: AuthConfig, opts: { log?: Logger; onQuery?: (sql: string) => void } = {}) {
  const log = opts.log ?? createLogger('auth', config.LOG_LEVEL);
  let keys!: SigningKeyStore;
  let kv!: KV;
  const running = await startSubgraph<ReturnType<typeof createDb>, AuthContext>({
    name: 'auth',
    config,
    log,
    migrationsDir: fileURLToPath(new URL('../prisma/migrations', import.meta.url)),
    db: () => createDb(config.DATABASE_URL, { poolSize: config.DB_POOL_SIZE, onQuery: opts.onQuery }),
    publishesEvents: false,
    // Revocations go to every gateway on a NATS KV bucket.
    usesNats: true,
    async setup({ db, bus, metrics }) {
      kv = await openRevocationBucket(bus!, {
        accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
        replicas: config.NATS_REPLICAS,
        log,
      });
      const passwords = createPasswordHasher({
        cost: config.PASSWORD_HASH_COST,
        concurrency: config.PASSWORD_HASH_CONCURRENCY,
        maxQueue: config.PASSWORD_HASH_QUEUE,
      });
      const windowMs = config.LOGIN_THROTTLE_WINDOW_SECONDS * 1000;
      const inFlight = createInFlight(config.PASSWORD_CHECKS_PER_ADDRESS);
      const loginThrottle = createLoginThrottle({
        perAccountAddress: config.LOGIN_FAILURES_PER_ACCOUNT_ADDRESS,
        perAccount: config.LOGIN_FAILURES_PER_ACCOUNT,
        perAddress: config.LOGIN_FAILURES_PER_ADDRESS,
        windowMs,
        inFlight,
      });
      const signUpThrottle = createSignUpThrottle({ perAddress: config.SIGNUPS_PER_ADDRESS, windowMs, inFlight });
      keys = createSigningKeyStore({
        db,
        secret: config.signingKeySecret,
        accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
        log,
      });
      // Before the first request: the first start creates the signing key, and clients can get tokens at once.
      await keys.current();
      const refusals = createPasswordCheckRefusals(metrics);
      const onRefused = (reason: 'throttled' | 'busy', kind: 'login' | 'signup' | 'client') =>
        refusals.inc({ reason, kind });
      const clients = createClientService({ db, passwords, throttle: loginThrottle, onRefused });
      await clients.seed(config.clients);
      const relay = createRevocationRelay({ db, kv, log });
      const tokens = createTokenService({
        db,
        keys,
        clients,
        relay,
        log,
        issuer: config.OAUTH_ISSUER.replace(/\/+$/, ''),
        audience: config.OAUTH_AUDIENCE,
        accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
        refreshTokenTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
      });
      const accounts = createAccountService({
        db,
        passwords,
        tokens,
        log,
        loginThrottle,
        signUpThrottle,
        onRefused,
      });
      return {
        typeDefs,
        resolvers,
        context: (viewer, request) => ({ viewer, accounts, clientAddress: addressKey(request.clientAddress) }),
        workers: [relay, createHousekeeping({ db, keys, log })],
        internalRoutes: oauthRoutes({
          clients,
          tokens,
          keys,
          log,
          issuer: config.OAUTH_ISSUER,
          accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
        }),
      };
    },
  });
  return {
    ...running,
    /** Makes a new signing key current; the previous one keeps verifying until its tokens expire. */
    rotateSigningKey: () => rotateSigningKey({ keys, kv, log }),
  };
}
