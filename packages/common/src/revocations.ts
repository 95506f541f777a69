import type { KV } from 'nats';
import type { Logger } from './logger.ts';
import { isPermissionError, type Bus } from './nats.ts';

/**
 * Revoked access tokens travel from the auth service to every gateway on one
 * NATS KV bucket, so a gateway never asks the auth database per request:
 *
 * - `jti.<jti>` → `{"exp": <seconds>}` for each revoked access token (logOut,
 *   /oauth/revoke, refresh-token reuse revoking a family). Gateways keep the
 *   set in memory from a watch, which pushes a new entry within milliseconds.
 * - `keys.rotated` → `{"kid": "…"}` after a signing-key rotation, so gateways
 *   refresh their JWKS at once instead of waiting for an unknown `kid`.
 *
 * The bucket's `max_age` is the access-token lifetime (plus a margin): an
 * entry is needed only until the token it names expires anyway. That is a
 * bucket-wide TTL, which NATS 2.9 honours (per-key TTLs it silently ignores).
 */
export const REVOKED_KEY_PREFIX = 'jti.';
export const KEYS_ROTATED_KEY = 'keys.rotated';

/** Extra life of an entry beyond the access-token lifetime: clock skew between services. */
const TTL_MARGIN_MS = 5 * 60_000;

export const revokedTokenKey = (jti: string) => `${REVOKED_KEY_PREFIX}${jti}`;

/** KV keys allow letters, digits and `-_=/.`; our jtis are UUIDs, anything else is refused. */
export const isRevocableTokenId = (jti: unknown): jti is string =>
  typeof jti === 'string' && /^[A-Za-z0-9_=-]{1,128}$/.test(jti);

/**
 * Opens (creating when missing) the revocation bucket of this deployment and
 * keeps its `max_age` in step with the configured token lifetime.
 *
 * @param accessTokenTtlSeconds The access-token lifetime; entries live this long plus five minutes.
 */
export async function openRevocationBucket(
  bus: Bus,
  { accessTokenTtlSeconds, replicas = 1, log }: { accessTokenTtlSeconds: number; replicas?: number; log?: Logger },
): Promise<KV> {
  const name = bus.stream('REVOCATIONS');
  const ttl = accessTokenTtlSeconds * 1000 + TTL_MARGIN_MS;
  const kv = await bus.js.views.kv(name, { history: 1, ttl, replicas });
  // views.kv binds an existing bucket as it is: a changed lifetime or replica count
  // (a deployment moved to a cluster, NATS_REPLICAS=3) must be applied by hand.
  const status = await kv.status();
  if (status.ttl !== ttl || status.replicas !== replicas) {
    const jsm = await bus.nc.jetstreamManager();
    const { config } = status.streamInfo;
    try {
      await jsm.streams.update(config.name, { ...config, max_age: ttl * 1_000_000, num_replicas: replicas });
      log?.info({ bucket: name, ttlMs: ttl, replicas }, 'revocation bucket settings updated');
    } catch (err) {
      // A reader (the gateway) may not change the bucket: the auth service, which writes it, does.
      if (!isPermissionError(err)) throw err;
      log?.warn({ bucket: name }, "revocation bucket settings differ from this service's; left to the auth service");
    }
  }
  return kv;
}
