import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import { type Logger } from '@orderflow/common/observability';
import { ACCESS_TOKEN_ALG, ACCESS_TOKEN_TYPE, type AccessTokenClaims } from '@orderflow/common/server';
import { CUSTOMER_SCOPES } from '@orderflow/contracts';
import type { Db, OAuthClient } from '../db.ts';
import { CUSTOMER_CLIENT_ID } from '../domain/clients.ts';
import { OAuthError, invalidGrant } from '../domain/oauth-error.ts';
import { formatScope } from '../domain/scopes.ts';
import type { ClientService } from './client-service.ts';
import { recordRevocations, type RevocationRelay } from './revocations.ts';
import type { SigningKeyStore } from './signing-keys.ts';

export interface TokenServiceOptions {
  db: Db;
  keys: SigningKeyStore;
  clients: ClientService;
  relay: Pick<RevocationRelay, 'kick'>;
  log: Logger;
  issuer: string;
  audience: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
}

export interface IssuedAccessToken {
  token: string;
  jti: string;
  expiresAt: Date;
  scope: string;
}

/** What signUp, logIn and a refresh return (the contract's AuthPayload). */
export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  scope: string;
}

type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];

/** Refresh tokens are 256 random bits; SHA-256 is enough to store them (no guessing to slow down). */
const hashRefreshToken = (token: string) => createHash('sha256').update(token).digest('hex');
const MAX_TOKEN_LENGTH = 4096;
/** First key of the advisory locks on refresh families ("rfam"), apart from any other advisory lock in the database. */
const FAMILY_LOCK_SPACE = 0x7266616d;

/**
 * Serializes everything done to one refresh family (a rotation, a
 * revocation) until `tx` ends. Without it, a rotation in flight when reuse
 * is detected could commit its new pair after the revocation read the
 * family, and that pair would live on. With it, whichever comes second sees
 * what the first committed (READ COMMITTED: each statement reads the
 * commits made before it), so the revocation catches the new pair, or the
 * rotation finds its token revoked. Families are hashed to 32 bits: two
 * that collide only wait for each other.
 */
async function lockFamily(tx: Tx, familyId: string): Promise<void> {
  await tx.$queryRawUnsafe(
    'SELECT 1 FROM pg_advisory_xact_lock($1::int, hashtext($2::text))',
    FAMILY_LOCK_SPACE,
    familyId,
  );
}

export function createTokenService({
  db,
  keys,
  clients,
  relay,
  log,
  issuer,
  audience,
  accessTokenTtlSeconds,
  refreshTokenTtlSeconds,
}: TokenServiceOptions) {
  async function signAccessToken(claims: {
    sub: string;
    clientId: string;
    scopes: readonly string[];
    email?: string;
  }): Promise<IssuedAccessToken> {
    const { kid, privateKey } = await keys.current();
    const jti = randomUUID();
    const iat = Math.floor(Date.now() / 1000);
    const exp = iat + accessTokenTtlSeconds;
    const scope = formatScope(claims.scopes);
    const payload: Omit<AccessTokenClaims, 'iss' | 'sub' | 'aud' | 'exp' | 'iat' | 'jti'> = {
      client_id: claims.clientId,
      scope,
      rate_limit: await clients.rateLimitOf(claims.clientId),
      ...(claims.email ? { email: claims.email } : {}),
    };
    const token = await new SignJWT(payload as unknown as Record<string, unknown>)
      .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, typ: ACCESS_TOKEN_TYPE, kid })
      .setIssuer(issuer)
      .setSubject(claims.sub)
      .setAudience(audience)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(jti)
      .sign(privateKey);
    return { token, jti, expiresAt: new Date(exp * 1000), scope };
  }

  /** A customer's access token plus a new refresh token in `familyId`, written in `tx`. */
  async function issueCustomerPair(
    tx: Tx,
    user: { id: string; email: string },
    familyId: string,
    scopes: readonly string[],
  ): Promise<TokenPair> {
    const access = await signAccessToken({ sub: user.id, clientId: CUSTOMER_CLIENT_ID, scopes, email: user.email });
    const refreshToken = randomBytes(32).toString('base64url');
    await tx.refreshToken.create({
      data: {
        id: randomUUID(),
        tokenHash: hashRefreshToken(refreshToken),
        familyId,
        userId: user.id,
        clientId: CUSTOMER_CLIENT_ID,
        scope: access.scope,
        accessTokenId: access.jti,
        accessExpiresAt: access.expiresAt,
        expiresAt: new Date(Date.now() + refreshTokenTtlSeconds * 1000),
      },
    });
    return {
      accessToken: access.token,
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: accessTokenTtlSeconds,
      scope: access.scope,
    };
  }

  /** Revokes every refresh token of a family and the access tokens issued with them. */
  async function revokeFamily(tx: Tx, familyId: string): Promise<void> {
    await lockFamily(tx, familyId);
    const members = await tx.refreshToken.findMany({
      where: { familyId },
      select: { accessTokenId: true, accessExpiresAt: true },
    });
    await tx.refreshToken.updateMany({ where: { familyId, revokedAt: null }, data: { revokedAt: new Date() } });
    await recordRevocations(
      tx,
      members.map((m) => ({ jti: m.accessTokenId, expiresAt: m.accessExpiresAt })),
    );
  }

  /** The claims of one of our own access tokens, or null (forged, someone else's, malformed); expiry is not checked. */
  async function readOwnAccessToken(token: string): Promise<AccessTokenClaims | null> {
    try {
      decodeProtectedHeader(token);
    } catch {
      return null;
    }
    try {
      const { payload } = await jwtVerify<AccessTokenClaims>(token, await keys.verificationKeys(), {
        issuer,
        audience,
        algorithms: [ACCESS_TOKEN_ALG],
        typ: ACCESS_TOKEN_TYPE,
        // Revoking an expired token is a no-op, not an error: accept any age here.
        clockTolerance: Number.MAX_SAFE_INTEGER,
      });
      return payload;
    } catch (err) {
      if (err instanceof joseErrors.JOSEError) return null;
      throw err;
    }
  }

  return {
    /** A new log-in: a fresh refresh-token family. */
    async startSession(user: { id: string; email: string }): Promise<TokenPair> {
      return db.$transaction((tx) => issueCustomerPair(tx, user, randomUUID(), CUSTOMER_SCOPES));
    },

    /** RFC 6749 §4.4: an access token for the client itself (no refresh token, §4.4.3). */
    async issueClientToken(client: OAuthClient, scopes: readonly string[]): Promise<IssuedAccessToken> {
      return signAccessToken({ sub: client.id, clientId: client.id, scopes });
    },

    /**
     * RFC 6749 §6 with rotation: the presented token dies and a new pair is
     * issued in its family. A token presented a second time (reuse: it was
     * stolen, or the client is confused) revokes the whole family, including
     * the access tokens issued with it, and is refused.
     *
     * @param clientId The authenticated client, when the request carried credentials: it must own the token.
     * @param scopes Narrowed scopes (RFC 6749 §6), each one already granted to the family.
     */
    async refresh(
      presented: string,
      { clientId, scopes = [] }: { clientId?: string; scopes?: string[] } = {},
    ): Promise<TokenPair> {
      if (presented.length === 0 || presented.length > MAX_TOKEN_LENGTH) throw invalidGrant();
      const tokenHash = hashRefreshToken(presented);
      const outcome = await db.$transaction(
        async (
          tx,
        ): Promise<{ kind: 'ok'; pair: TokenPair } | { kind: 'reused'; familyId: string } | { kind: 'invalid' }> => {
          const family = await tx.refreshToken.findUnique({ where: { tokenHash }, select: { familyId: true } });
          if (!family) return { kind: 'invalid' };
          await lockFamily(tx, family.familyId);
          const now = new Date();
          // Claiming it with a conditional UPDATE (under the family's lock): of concurrent uses, one wins and the others see a used token.
          const claimed = await tx.refreshToken.updateMany({
            where: { tokenHash, usedAt: null, revokedAt: null, expiresAt: { gt: now } },
            data: { usedAt: now },
          });
          const row = await tx.refreshToken.findUnique({
            where: { tokenHash },
            include: { user: { select: { id: true, email: true } } },
          });
          if (!row) return { kind: 'invalid' };
          if (claimed.count === 0) {
            if (row.usedAt && !row.revokedAt) {
              await revokeFamily(tx, row.familyId);
              return { kind: 'reused', familyId: row.familyId };
            }
            return { kind: 'invalid' };
          }
          // Throwing rolls the claim back: the token stays usable by its owner.
          if (clientId && clientId !== row.clientId)
            throw invalidGrant('The refresh token was issued to another client');
          const granted = row.scope.split(' ');
          if (scopes.some((s) => !granted.includes(s)))
            throw new OAuthError('invalid_scope', 'The requested scope exceeds the scope granted to the refresh token');
          return {
            kind: 'ok',
            pair: await issueCustomerPair(tx, row.user, row.familyId, scopes.length ? scopes : granted),
          };
        },
      );
      if (outcome.kind === 'reused') {
        log.warn({ familyId: outcome.familyId }, 'refresh token reused: its family is revoked');
        await relay.kick();
      }
      if (outcome.kind !== 'ok') throw invalidGrant();
      return outcome.pair;
    },

    /**
     * logOut: revokes the caller's refresh family (only if it is theirs) and
     * the access token of the request. Idempotent; says nothing about the token.
     */
    async logOut(userId: string, refreshToken: string, current: { jti?: string; expiresAt?: Date }): Promise<void> {
      await db.$transaction(async (tx) => {
        const row =
          refreshToken.length <= MAX_TOKEN_LENGTH
            ? await tx.refreshToken.findUnique({ where: { tokenHash: hashRefreshToken(refreshToken) } })
            : null;
        if (row && row.userId === userId) await revokeFamily(tx, row.familyId);
        if (current.jti && current.expiresAt)
          await recordRevocations(tx, [{ jti: current.jti, expiresAt: current.expiresAt }]);
      });
      await relay.kick();
    },

    /**
     * RFC 7009: revokes an access token (until it expires) or a refresh token
     * (its whole family, and the access tokens issued with it, §2.1). Unknown,
     * expired or foreign tokens are ignored: the caller gets 200 either way.
     *
     * @param clientId The authenticated client, when credentials were sent: it must own the token.
     * @param hint token_type_hint; only the order of the look-ups depends on it.
     */
    async revoke(token: string, { clientId, hint }: { clientId?: string; hint?: string } = {}): Promise<void> {
      if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return;
      const asAccess = async () => {
        const claims = await readOwnAccessToken(token);
        if (!claims) return false;
        if (clientId && claims.client_id !== clientId)
          throw new OAuthError('unauthorized_client', 'The token was not issued to this client');
        await db.$transaction((tx) =>
          recordRevocations(tx, [{ jti: claims.jti, expiresAt: new Date(claims.exp * 1000) }]),
        );
        return true;
      };
      const asRefresh = async () => {
        const row = await db.refreshToken.findUnique({ where: { tokenHash: hashRefreshToken(token) } });
        if (!row) return false;
        if (clientId && row.clientId !== clientId)
          throw new OAuthError('unauthorized_client', 'The token was not issued to this client');
        await db.$transaction((tx) => revokeFamily(tx, row.familyId));
        return true;
      };
      const order = hint === 'refresh_token' ? [asRefresh, asAccess] : [asAccess, asRefresh];
      for (const attempt of order) if (await attempt()) break;
      await relay.kick();
    },
  };
}
export type TokenService = ReturnType<typeof createTokenService>;
