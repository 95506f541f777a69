import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidTokenError, createTokenVerifier } from './token-verifier.ts';

// The gateway keeps a verified access token for a while (a client sends the same one on every request);
// these check that doing so lets no expired, revoked or withdrawn-key token through.
let server: Server;
let jwks: { keys: JWK[] };
let privateKey: CryptoKey;
let jwksUrl: string;

beforeEach(async () => {
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey;
  jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] };
  server = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks)),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
});
afterEach(async () => {
  vi.useRealTimers();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function accessToken(jti: string, lifetimeSeconds = 3600) {
  return new SignJWT({ client_id: 'storefront', scope: 'orders:create', rate_limit: 600, email: 'a@example.com' })
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'k1' })
    .setIssuer('auth')
    .setAudience('orderflow')
    .setSubject('customer-1')
    .setJti(jti)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + lifetimeSeconds)
    .sign(privateKey);
}

function verifier(revoked: Set<string>) {
  return createTokenVerifier({
    jwksUrl,
    jwksHeaders: async () => ({}),
    issuer: 'auth',
    audience: 'orderflow',
    isRevoked: (jti) => revoked.has(jti),
    cooldownMs: 0,
  });
}

describe('token verifier: a token verified before', () => {
  it('gives each request its own viewer', async () => {
    const v = verifier(new Set());
    const token = await accessToken('t1');
    const first = await v.verify(token);
    expect(first).toMatchObject({ viewer: { id: 'customer-1', kind: 'customer', tokenId: 't1' }, rateLimit: 600 });
    (first.viewer as { id: string }).id = 'someone-else';
    expect((await v.verify(token)).viewer.id).toBe('customer-1');
  });

  it('is refused as soon as it is revoked', async () => {
    const revoked = new Set<string>();
    const v = verifier(revoked);
    const token = await accessToken('t2');
    await v.verify(token);
    revoked.add('t2');
    await expect(v.verify(token)).rejects.toThrow(new InvalidTokenError('The access token has been revoked'));
  });

  it('is refused once expired (beyond the 5 s clock tolerance)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const v = verifier(new Set());
    const token = await accessToken('t3', 30);
    await v.verify(token);
    vi.setSystemTime(Date.now() + 34_000);
    expect((await v.verify(token)).viewer.tokenId).toBe('t3');
    vi.setSystemTime(Date.now() + 2_000);
    await expect(v.verify(token)).rejects.toThrow(new InvalidTokenError('The access token has expired'));
  });

  it('is refused after a key rotation that withdrew its key', async () => {
    const v = verifier(new Set());
    const token = await accessToken('t4');
    await v.verify(token);
    const other = await generateKeyPair('RS256');
    jwks = { keys: [{ ...(await exportJWK(other.publicKey)), kid: 'k2', alg: 'RS256', use: 'sig' }] };
    await v.reloadKeys();
    await expect(v.verify(token)).rejects.toBeInstanceOf(InvalidTokenError);
  });
});
