// `npm run auth:rotate-key`: makes a new signing key current for access
// tokens. Tokens signed with the previous key stay valid until they expire
// (its public key stays in the JWKS that long), and every gateway refreshes
// its keys at once from the announcement on NATS. Reads the auth service's
// configuration from the environment (DATABASE_URL, NATS_URL,
// SIGNING_KEY_SECRET, …), like the service itself.
import { connectBus, openRevocationBucket } from '@orderflow/common/messaging';
import { createLogger } from '@orderflow/common/observability';
import { loadConfig } from '../subgraphs/auth/src/config.ts';
import { createDb } from '../subgraphs/auth/src/db.ts';
import { createSigningKeyStore, rotateSigningKey } from '../subgraphs/auth/src/service/signing-keys.ts';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const log = createLogger('rotate-signing-key', config.LOG_LEVEL);
  const db = createDb(config.DATABASE_URL, { poolSize: 1 });
  const bus = await connectBus({
    url: config.NATS_URL,
    user: config.NATS_USER,
    password: config.NATS_PASSWORD,
    prefix: config.NATS_PREFIX,
    name: 'rotate-signing-key',
    log,
    streams: [],
  });
  try {
    const kv = await openRevocationBucket(bus, {
      accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
      replicas: config.NATS_REPLICAS,
      log,
    });
    const keys = createSigningKeyStore({
      db,
      secret: config.signingKeySecret,
      accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
      log,
    });
    const { kid, previousKid } = await rotateSigningKey({ keys, kv, log });
    process.stdout.write(`signing key rotated: ${previousKid ?? '(none)'} → ${kid}\n`);
  } finally {
    await bus.close();
    await db.$disconnect();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`rotation failed: ${err.message}\n`);
  process.exit(1);
});
