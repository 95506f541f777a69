import { hkdfSync } from 'node:crypto';
import {
  CompactEncrypt,
  calculateJwkThumbprint,
  compactDecrypt,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
} from 'jose';
import type { KV } from 'nats';
import { KEYS_ROTATED_KEY } from '@orderflow/common/messaging';
import { type Logger } from '@orderflow/common/observability';
import { ACCESS_TOKEN_ALG } from '@orderflow/common/server';
import type { Db } from '../db.ts';

/**
 * The RSA keys that sign access tokens, kept in the auth database.
 *
 * - Storage: the public JWK in clear, the private JWK as a compact JWE
 *   (`dir` + `A256GCM`) under a key derived with HKDF from SIGNING_KEY_SECRET,
 *   so a copy of the database alone cannot mint tokens. Every replica of the
 *   auth service shares the keys through the database.
 * - One key signs at a time (the newest unretired one). The first start
 *   creates it; `rotate()` creates a new one and retires the old, whose public
 *   key stays in the JWKS until every token it signed has expired
 *   (access-token lifetime + a margin for replicas still holding it in cache).
 * - kid = the key's RFC 7638 thumbprint.
 */
export interface SigningKeyStoreOptions {
  db: Db;
  /** SIGNING_KEY_SECRET. */
  secret: string;
  accessTokenTtlSeconds: number;
  log: Logger;
  /**
   * How long a process signs with the key it loaded before looking again, so
   * a rotation done by another replica is picked up. Default 30 s.
   */
  cacheMs?: number;
}

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
}

// Serialises key creation and rotation across replicas (transaction-scoped).
const KEY_LOCK = 727_301;
/** Retired keys stay published this long beyond the token lifetime. */
const RETIREMENT_MARGIN_MS = 5 * 60_000;
const RSA_MODULUS_BITS = 2048;

export function createSigningKeyStore({
  db,
  secret,
  accessTokenTtlSeconds,
  log,
  cacheMs = 30_000,
}: SigningKeyStoreOptions) {
  const encryptionKey = new Uint8Array(hkdfSync('sha256', secret, 'orderflow-signing-keys', 'private-jwk A256GCM', 32));
  let cached: { key: SigningKey; until: number } | null = null;

  async function newKeyRow() {
    const { publicKey, privateKey } = await generateKeyPair(ACCESS_TOKEN_ALG, {
      modulusLength: RSA_MODULUS_BITS,
      extractable: true,
    });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const privateJwk = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(await exportJWK(privateKey))))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid, cty: 'jwk+json' })
      .encrypt(encryptionKey);
    return {
      kid,
      algorithm: ACCESS_TOKEN_ALG,
      publicJwk: { ...publicJwk, kid, alg: ACCESS_TOKEN_ALG, use: 'sig' } as object,
      privateJwk,
    };
  }

  async function decrypt(row: { kid: string; privateJwk: string }): Promise<SigningKey> {
    const { plaintext } = await compactDecrypt(row.privateJwk, encryptionKey);
    const jwk = JSON.parse(new TextDecoder().decode(plaintext)) as JWK;
    return { kid: row.kid, privateKey: (await importJWK(jwk, ACCESS_TOKEN_ALG)) as CryptoKey };
  }

  const lock = (tx: Pick<Db, '$executeRawUnsafe'>) =>
    tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock($1)', KEY_LOCK);

  async function active(): Promise<SigningKey> {
    const row = await db.signingKey.findFirst({ where: { retiredAt: null }, orderBy: { createdAt: 'desc' } });
    if (row) return decrypt(row);
    // First start (or a wiped table): create one, once across replicas.
    const created = await db.$transaction(async (tx) => {
      await lock(tx);
      const again = await tx.signingKey.findFirst({ where: { retiredAt: null }, orderBy: { createdAt: 'desc' } });
      if (again) return again;
      const fresh = await tx.signingKey.create({ data: await newKeyRow() });
      log.info({ kid: fresh.kid }, 'signing key created');
      return fresh;
    });
    return decrypt(created);
  }

  return {
    /** The key to sign with now. */
    async current(): Promise<SigningKey> {
      if (cached && cached.until > Date.now()) return cached.key;
      const key = await active();
      cached = { key, until: Date.now() + cacheMs };
      return key;
    },

    /**
     * Makes a new key the signing key and retires the current one (still
     * published until its tokens have expired). Returns both kids.
     */
    async rotate(): Promise<{ kid: string; previousKid: string | null }> {
      const row = await newKeyRow();
      const previous = await db.$transaction(async (tx) => {
        await lock(tx);
        const old = await tx.signingKey.findMany({ where: { retiredAt: null }, select: { kid: true } });
        await tx.signingKey.updateMany({ where: { retiredAt: null }, data: { retiredAt: new Date() } });
        await tx.signingKey.create({ data: row });
        return old[0]?.kid ?? null;
      });
      cached = null;
      log.info({ kid: row.kid, previousKid: previous }, 'signing key rotated');
      return { kid: row.kid, previousKid: previous };
    },

    /** Public keys that may have signed a token still valid: the JWKS document. */
    async jwks(): Promise<JSONWebKeySet> {
      const publishedSince = new Date(Date.now() - accessTokenTtlSeconds * 1000 - RETIREMENT_MARGIN_MS);
      const rows = await db.signingKey.findMany({
        where: { OR: [{ retiredAt: null }, { retiredAt: { gt: publishedSince } }] },
        orderBy: { createdAt: 'desc' },
      });
      return { keys: rows.map((r) => r.publicJwk as JWK) };
    },

    /** A key set over the published keys, to verify our own tokens (revocation). */
    async verificationKeys() {
      return createLocalJWKSet(await this.jwks());
    },

    /** Drops retired keys whose tokens have all expired. */
    async prune(): Promise<number> {
      const before = new Date(Date.now() - accessTokenTtlSeconds * 1000 - 2 * RETIREMENT_MARGIN_MS);
      const { count } = await db.signingKey.deleteMany({ where: { retiredAt: { lt: before } } });
      return count;
    },
  };
}
export type SigningKeyStore = ReturnType<typeof createSigningKeyStore>;

/**
 * Rotates the signing key and announces it on the revocation bucket, so
 * every gateway refreshes its JWKS at once (rather than on the first unknown
 * kid after its cool-down). Tokens of the previous key stay valid until they
 * expire: its public key stays in the JWKS that long.
 */
export async function rotateSigningKey({ keys, kv, log }: { keys: SigningKeyStore; kv: Pick<KV, 'put'>; log: Logger }) {
  const rotated = await keys.rotate();
  try {
    await kv.put(KEYS_ROTATED_KEY, JSON.stringify({ kid: rotated.kid }));
  } catch (err) {
    // Gateways still find the new key on its first token (unknown kid → JWKS refetch).
    log.warn({ err: (err as Error).message }, 'key rotation not announced on NATS');
  }
  return rotated;
}
