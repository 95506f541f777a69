import { generateKeyPair, SignJWT, UnsecuredJWT, decodeJwt, decodeProtectedHeader, exportJWK, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@orderflow/common/observability';
import { SCOPES } from '@orderflow/contracts';
import { loadConfig as authConfig } from '../subgraphs/auth/src/config.ts';
import { createSigningKeyStore } from '../subgraphs/auth/src/service/signing-keys.ts';
import { DEV_CLIENTS, bearer, startSystem, type Customer, type Headers, type System } from './support/system.ts';

const SIGN_UP = `mutation($input: SignUpInput!) { signUp(input: $input) { accessToken refreshToken tokenType expiresIn scope } }`;
const LOG_IN = `mutation($input: LogInInput!) { logIn(input: $input) { accessToken refreshToken tokenType expiresIn scope } }`;
const REFRESH = `mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken expiresIn scope } }`;
const LOG_OUT = `mutation($t: String!) { logOut(refreshToken: $t) }`;
const ME = '{ me { id email clientId scopes } }';
const CUSTOMER_SCOPE = 'orders:cancel orders:create orders:read shipments:read';

/** Nothing in a response may reveal internals or credentials. */
function expectNoLeak(body: unknown, ...secrets: string[]) {
  const text = JSON.stringify(body);
  expect(text).not.toMatch(/stacktrace|\s+at\s+\S+\s+\(|SELECT|INSERT|prisma|scrypt|127\.0\.0\.1:\d+\/internal/i);
  for (const s of secrets.filter(Boolean)) expect(text).not.toContain(s);
}

describe('authentication and tokens', () => {
  let system: System;
  let issuer: string;
  const code = (res: { errors?: { extensions?: Record<string, any> }[] }) => res.errors?.[0]?.extensions?.code;
  const me = (headers: Headers) => system.graphql(ME, {}, headers);
  const newEmail = (tag: string) => `${tag}-${Math.random().toString(36).slice(2, 10)}@example.test`;

  /** Polls until `headers` are refused; returns how long that took. */
  async function msUntilRefused(headers: Headers, since: number): Promise<number> {
    for (;;) {
      const res = await me(headers);
      if (code(res) === 'UNAUTHENTICATED') return Date.now() - since;
      if (Date.now() - since > 5_000) throw new Error('token still accepted after 5 s');
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  beforeAll(async () => {
    system = await startSystem();
    issuer = system.gatewayUrl;
  });
  afterAll(async () => system?.stop());

  describe('signUp and logIn', () => {
    it('signs a customer up with an RFC 9068 RS256 access token and a refresh token', async () => {
      const email = newEmail('Ada');
      const res = await system.graphql(SIGN_UP, {
        input: { email, password: 'correct horse battery', name: 'Ada Lovelace' },
      });
      expect(res.errors).toBeUndefined();
      const payload = res.data.signUp;
      expect(payload).toMatchObject({ tokenType: 'Bearer', expiresIn: 3600, scope: CUSTOMER_SCOPE });
      expect(payload.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const header = decodeProtectedHeader(payload.accessToken);
      expect(header).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
      expect(header.kid).toBeTruthy();
      const claims = decodeJwt(payload.accessToken);
      expect(claims).toMatchObject({
        iss: issuer,
        aud: 'orderflow-api',
        client_id: 'storefront',
        scope: CUSTOMER_SCOPE,
        email: email.toLowerCase(),
      });
      expect(claims.sub).toMatch(/^[0-9a-f-]{36}$/);
      expect(claims.exp! - claims.iat!).toBe(3600);
      expect(claims.jti).toBeTruthy();
      expect(claims.rate_limit).toBe(600);
      const who = await me(bearer(payload.accessToken));
      expect(who.data.me).toEqual({
        id: claims.sub,
        email: email.toLowerCase(),
        clientId: 'storefront',
        scopes: CUSTOMER_SCOPE.split(' '),
      });
    });

    it('stores only a salted scrypt hash of the password', async () => {
      const c = await system.signUpCustomer('hash');
      const row = await system.auth.db.user.findUnique({ where: { id: c.id } });
      expect(row!.passwordHash).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$/);
      expect(row!.passwordHash).not.toContain(c.password);
    });

    it.each([
      ['a malformed email', { email: 'not-an-email' }, 'email'],
      ['an email without domain', { email: 'ada@' }, 'email'],
      ['an email with spaces', { email: 'ada lovelace@example.test' }, 'email'],
      ['a 7-character password', { password: 'seven77' }, 'password'],
      ['an empty password', { password: '' }, 'password'],
      ['a blank name', { name: '   ' }, 'name'],
    ])('refuses a sign-up with %s, writing nothing', async (_name, patch, field) => {
      const input = { email: newEmail('bad'), password: 'long enough pw', name: 'Bad Input', ...patch };
      const res = await system.graphql(SIGN_UP, { input });
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(res.data).toBeNull();
      expect(await system.auth.db.user.count({ where: { email: input.email.toLowerCase() } })).toBe(0);
      expectNoLeak(res, input.password);
    });

    it('refuses a duplicate sign-up (any letter case) with a clear error that reveals nothing more', async () => {
      const first = await system.signUpCustomer('Grace Hopper');
      const res = await system.graphql(SIGN_UP, {
        input: { email: first.email.toUpperCase(), password: 'another password', name: 'Mallory' },
      });
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email' });
      expect(res.errors?.[0].message).toMatch(/exists/);
      expect(JSON.stringify(res)).not.toMatch(/Grace|Hopper|created|password/i);
      expect(await system.auth.db.user.count({ where: { email: first.email } })).toBe(1);
      // The first account is untouched.
      expect(
        (await system.graphql(LOG_IN, { input: { email: first.email, password: first.password } })).data.logIn
          .accessToken,
      ).toBeTruthy();
    });

    it('logs in (email in any case) with a new session', async () => {
      const c = await system.signUpCustomer('login');
      const res = await system.graphql(LOG_IN, { input: { email: c.email.toUpperCase(), password: c.password } });
      expect(res.data.logIn).toMatchObject({ tokenType: 'Bearer', expiresIn: 3600, scope: CUSTOMER_SCOPE });
      expect(decodeJwt(res.data.logIn.accessToken).sub).toBe(c.id);
      expect(res.data.logIn.refreshToken).not.toBe(c.refreshToken);
    });

    it('answers a wrong password exactly as an unknown email, in similar time', async () => {
      const c = await system.signUpCustomer('timing');
      const attempt = async (email: string, password: string) => {
        const t = performance.now();
        const res = await system.graphql(LOG_IN, { input: { email, password } });
        return { ms: performance.now() - t, res };
      };
      const wrong: number[] = [];
      const unknown: number[] = [];
      let answers: unknown[] = [];
      for (let i = 0; i < 4; i++) {
        const a = await attempt(c.email, 'wrong password!');
        const b = await attempt(newEmail('nobody'), 'wrong password!');
        wrong.push(a.ms);
        unknown.push(b.ms);
        answers = [a.res, b.res];
      }
      expect(answers[0]).toEqual(answers[1]);
      expect(answers[0]).toMatchObject({
        data: null,
        errors: [{ message: 'Invalid email or password', extensions: { code: 'UNAUTHENTICATED' } }],
      });
      const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
      // Without a hash for unknown emails the gap would be the whole scrypt cost (~20-100× the rest);
      // the margin is for a busy machine.
      const ratio = median(wrong) / median(unknown);
      expect(ratio).toBeGreaterThan(1 / 3);
      expect(ratio).toBeLessThan(3);
    });

    it('refuses a log-in with a malformed email as bad input', async () => {
      const res = await system.graphql(LOG_IN, { input: { email: 'nope', password: 'whatever1' } });
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email' });
    });
  });

  describe('refresh tokens', () => {
    it('rotates: a new pair, the old refresh token dies', async () => {
      const c = await system.signUpCustomer('rotate');
      const res = await system.graphql(REFRESH, { t: c.refreshToken });
      const next = res.data.refreshToken;
      expect(next.refreshToken).not.toBe(c.refreshToken);
      expect(next.accessToken).not.toBe(c.accessToken);
      expect(next).toMatchObject({ expiresIn: 3600, scope: CUSTOMER_SCOPE });
      expect((await me(bearer(next.accessToken))).data.me.id).toBe(c.id);
      // The new token rotates in turn.
      expect((await system.graphql(REFRESH, { t: next.refreshToken })).data.refreshToken.accessToken).toBeTruthy();
    });

    it('treats reuse of a rotated refresh token as theft: the whole family is revoked, access tokens included', async () => {
      const c = await system.signUpCustomer('reuse');
      const rotated = (await system.graphql(REFRESH, { t: c.refreshToken })).data.refreshToken;
      const reuse = await system.graphql(REFRESH, { t: c.refreshToken });
      expect(code(reuse)).toBe('UNAUTHENTICATED');
      expect(reuse.errors?.[0].message).toBe('Invalid refresh token');
      const since = Date.now();
      // The legitimate-looking newer token of the family is dead too…
      expect(code(await system.graphql(REFRESH, { t: rotated.refreshToken }))).toBe('UNAUTHENTICATED');
      // …and so are the access tokens issued in the family, at the gateway, within a second.
      expect(await msUntilRefused(bearer(rotated.accessToken), since)).toBeLessThan(1_000);
      expect(code(await me(c.headers))).toBe('UNAUTHENTICATED');
      // Another session of the same customer is not affected.
      const other = await system.graphql(LOG_IN, { input: { email: c.email, password: c.password } });
      expect((await me(bearer(other.data.logIn.accessToken))).data.me.id).toBe(c.id);
    });

    it('lets only one of two concurrent uses through, and then revokes the family', async () => {
      const c = await system.signUpCustomer('race');
      const [a, b] = await Promise.all([
        system.oauth('/oauth/token', { grant_type: 'refresh_token', refresh_token: c.refreshToken }),
        system.oauth('/oauth/token', { grant_type: 'refresh_token', refresh_token: c.refreshToken }),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 400]);
      const winner = a.status === 200 ? a : b;
      const loser = a.status === 200 ? b : a;
      expect(loser.body).toEqual({ error: 'invalid_grant', error_description: expect.any(String) });
      expect(
        (await system.oauth('/oauth/token', { grant_type: 'refresh_token', refresh_token: winner.body.refresh_token }))
          .body.error,
      ).toBe('invalid_grant');
    });

    it('lets exactly one of 20 concurrent refreshes of one token win; the reuse then ends the whole family', async () => {
      const c = await system.signUpCustomer('race-20');
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => system.graphql(REFRESH, { t: c.refreshToken })),
      );
      const winners = answers.filter((r) => r.data?.refreshToken);
      expect(winners).toHaveLength(1);
      expect(answers.filter((r) => code(r) === 'UNAUTHENTICATED')).toHaveLength(19);
      // The 19 others were reuse: nothing of the family works, not even the winner's fresh pair.
      const won = winners[0].data.refreshToken;
      expect(code(await system.graphql(REFRESH, { t: won.refreshToken }))).toBe('UNAUTHENTICATED');
      expect(await msUntilRefused(bearer(won.accessToken), Date.now())).toBeLessThan(5_000);
    });

    it('revokes a pair issued by a refresh that was in flight when reuse revoked the family', async () => {
      const c = await system.signUpCustomer('in-flight');
      const rotated = (await system.graphql(REFRESH, { t: c.refreshToken })).data.refreshToken;
      const db = system.auth.db;
      const waiting = async () =>
        (
          await db.$queryRawUnsafe<{ n: number }[]>(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
          )
        )[0].n;
      const until = async (n: number) => {
        for (let i = 0; i < 200 && (await waiting()) < n; i++) await new Promise((r) => setTimeout(r, 25));
        expect(await waiting()).toBeGreaterThanOrEqual(n);
      };
      // Hold the current token's row, so that its owner's refresh stops in the middle of its transaction;
      // then present the old token (reuse, which revokes the family) while that refresh is still in flight.
      let owner!: Promise<any>;
      let reuse!: Promise<any>;
      await db.$transaction(
        async (tx) => {
          await tx.$queryRawUnsafe(
            `SELECT id FROM refresh_tokens WHERE token_hash = encode(sha256(convert_to($1, 'UTF8')), 'hex') FOR UPDATE`,
            rotated.refreshToken,
          );
          owner = system.graphql(REFRESH, { t: rotated.refreshToken });
          await until(1);
          reuse = system.graphql(REFRESH, { t: c.refreshToken });
          await until(2);
        },
        { timeout: 20_000 },
      );
      const [ownerAnswer, reuseAnswer] = await Promise.all([owner, reuse]);
      expect(code(reuseAnswer)).toBe('UNAUTHENTICATED');
      // Whether or not the owner's refresh got its pair out, that pair is dead: refresh token and access token.
      const pair = ownerAnswer.data?.refreshToken;
      if (pair) {
        expect(code(await system.graphql(REFRESH, { t: pair.refreshToken }))).toBe('UNAUTHENTICATED');
        expect(await msUntilRefused(bearer(pair.accessToken), Date.now())).toBeLessThan(5_000);
      } else expect(code(ownerAnswer)).toBe('UNAUTHENTICATED');
      const live = await db.refreshToken.count({ where: { userId: c.id, revokedAt: null } });
      expect(live).toBe(0);
    });

    it('refuses unknown, expired and empty refresh tokens', async () => {
      const c = await system.signUpCustomer('expired');
      await system.auth.db.refreshToken.updateMany({
        where: { userId: c.id },
        data: { expiresAt: new Date(Date.now() - 1000) },
      });
      for (const t of [c.refreshToken, 'not-a-token', '', 'x'.repeat(5000)])
        expect(code(await system.graphql(REFRESH, { t }))).toBe('UNAUTHENTICATED');
    });

    it('refreshes through /oauth/token (grant_type=refresh_token), as the public storefront or with its secret', async () => {
      const c = await system.signUpCustomer('oauth-refresh');
      const plain = await system.oauth('/oauth/token', { grant_type: 'refresh_token', refresh_token: c.refreshToken });
      expect(plain.status).toBe(200);
      expect(plain.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: CUSTOMER_SCOPE });
      expect(plain.headers.get('cache-control')).toBe('no-store');
      const narrowed = await system.oauth(
        '/oauth/token',
        { grant_type: 'refresh_token', refresh_token: plain.body.refresh_token, scope: 'orders:read' },
        { basic: ['storefront', DEV_CLIENTS.storefront] },
      );
      expect(narrowed.status).toBe(200);
      expect(narrowed.body.scope).toBe('orders:read');
      expect(decodeJwt(narrowed.body.access_token).scope).toBe('orders:read');
      // Scope can only narrow, and a token belongs to its client.
      const wider = await system.oauth('/oauth/token', {
        grant_type: 'refresh_token',
        refresh_token: narrowed.body.refresh_token,
        scope: 'orders:read products:write',
      });
      expect(wider.body.error).toBe('invalid_scope');
      const foreign = await system.oauth(
        '/oauth/token',
        { grant_type: 'refresh_token', refresh_token: narrowed.body.refresh_token },
        { basic: ['ops-console', DEV_CLIENTS['ops-console']] },
      );
      expect(foreign.body.error).toBe('invalid_grant');
      // Neither refusal used the token up.
      expect(
        (
          await system.oauth('/oauth/token', {
            grant_type: 'refresh_token',
            refresh_token: narrowed.body.refresh_token,
          })
        ).status,
      ).toBe(200);
      const badSecret = await system.oauth(
        '/oauth/token',
        { grant_type: 'refresh_token', refresh_token: 'whatever' },
        { basic: ['storefront', 'wrong'] },
      );
      expect(badSecret.status).toBe(401);
      expect(badSecret.body.error).toBe('invalid_client');
    });
  });

  describe('logOut', () => {
    it('revokes the caller’s access token at the gateway within one second, and the refresh family', async () => {
      const c = await system.signUpCustomer('logout');
      expect((await me(c.headers)).data.me.id).toBe(c.id);
      const res = await system.graphql(LOG_OUT, { t: c.refreshToken }, c.headers);
      expect(res.data).toEqual({ logOut: true });
      expect(await msUntilRefused(c.headers, Date.now())).toBeLessThan(1_000);
      const refused = await me(c.headers);
      expect(refused).toMatchObject({
        status: 200,
        errors: [{ message: 'The access token has been revoked', extensions: { code: 'UNAUTHENTICATED' } }],
      });
      expect(code(await system.graphql(REFRESH, { t: c.refreshToken }))).toBe('UNAUTHENTICATED');
    });

    it('needs a token', async () => {
      const c = await system.signUpCustomer('logout-anon');
      expect(code(await system.graphql(LOG_OUT, { t: c.refreshToken }))).toBe('UNAUTHENTICATED');
      expect((await system.graphql(REFRESH, { t: c.refreshToken })).data.refreshToken).toBeTruthy();
    });

    it('leaves someone else’s refresh token alone', async () => {
      const [a, b] = await system.signUpCustomers(2, 'logout-other');
      expect((await system.graphql(LOG_OUT, { t: b.refreshToken }, a.headers)).data.logOut).toBe(true);
      expect((await system.graphql(REFRESH, { t: b.refreshToken })).data.refreshToken).toBeTruthy();
    });
  });

  describe('client credentials (POST /oauth/token)', () => {
    it('issues a token to a client authenticating with HTTP Basic, with every allowed scope and no refresh token', async () => {
      const res = await system.oauth(
        '/oauth/token',
        { grant_type: 'client_credentials' },
        { basic: ['ops-console', DEV_CLIENTS['ops-console']] },
      );
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('pragma')).toBe('no-cache');
      expect(res.body).toEqual({
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 3600,
        scope: [...SCOPES].sort().join(' '),
      });
      expect(decodeJwt(res.body.access_token)).toMatchObject({
        sub: 'ops-console',
        client_id: 'ops-console',
        iss: issuer,
        aud: 'orderflow-api',
        rate_limit: 6000,
      });
      expect((await me(bearer(res.body.access_token))).data.me).toEqual({
        id: 'ops-console',
        email: null,
        clientId: 'ops-console',
        scopes: [...SCOPES].sort(),
      });
    });

    it('accepts the secret in the body (client_secret_post) and narrows to a requested scope', async () => {
      const res = await system.oauth('/oauth/token', {
        grant_type: 'client_credentials',
        client_id: 'delivery-partner',
        client_secret: DEV_CLIENTS['delivery-partner'],
        scope: 'shipments:read',
      });
      expect(res.status).toBe(200);
      expect(res.body.scope).toBe('shipments:read');
      const all = await system.oauth(
        '/oauth/token',
        { grant_type: 'client_credentials' },
        { basic: ['delivery-partner', DEV_CLIENTS['delivery-partner']] },
      );
      expect(all.body.scope).toBe('shipments:read shipments:write');
    });

    const basicFor = (id: string, secret: string) => ({
      authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
    });
    it.each([
      [
        'a wrong secret',
        { grant_type: 'client_credentials' },
        basicFor('ops-console', 'wrong-secret'),
        401,
        'invalid_client',
      ],
      ['an unknown client', { grant_type: 'client_credentials' }, basicFor('nobody', 'x'), 401, 'invalid_client'],
      ['no client credentials', { grant_type: 'client_credentials' }, {}, 401, 'invalid_client'],
      [
        'a client id without secret',
        { grant_type: 'client_credentials', client_id: 'ops-console' },
        {},
        401,
        'invalid_client',
      ],
      [
        'a malformed Basic header',
        { grant_type: 'client_credentials' },
        { authorization: 'Basic !!!' },
        401,
        'invalid_client',
      ],
      ['a Bearer header', { grant_type: 'client_credentials' }, { authorization: 'Bearer abc' }, 401, 'invalid_client'],
      [
        'two authentication methods',
        { grant_type: 'client_credentials', client_secret: 'ops-console-dev-secret' },
        basicFor('ops-console', 'ops-console-dev-secret'),
        400,
        'invalid_request',
      ],
      [
        'a scope the client may not have',
        { grant_type: 'client_credentials', scope: 'orders:read:all' },
        basicFor('delivery-partner', 'delivery-partner-dev-secret'),
        400,
        'invalid_scope',
      ],
      [
        'a malformed scope',
        { grant_type: 'client_credentials', scope: 'a"b' },
        basicFor('ops-console', 'ops-console-dev-secret'),
        400,
        'invalid_scope',
      ],
      [
        'an unknown grant_type',
        { grant_type: 'password', username: 'a', password: 'b' },
        basicFor('ops-console', 'ops-console-dev-secret'),
        400,
        'unsupported_grant_type',
      ],
      ['no grant_type', {}, basicFor('ops-console', 'ops-console-dev-secret'), 400, 'invalid_request'],
      ['refresh_token without the token', { grant_type: 'refresh_token' }, {}, 400, 'invalid_request'],
    ])('refuses %s', async (_name, params, headers, status, error) => {
      const res = await system.oauth('/oauth/token', params as Record<string, string>, { headers: headers as Headers });
      expect(res.status).toBe(status);
      expect(res.body).toEqual({ error, error_description: expect.any(String) });
      if (status === 401) expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="orderflow"/);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expectNoLeak(res.body, 'ops-console-dev-secret', 'wrong-secret');
    });

    it('refuses a repeated parameter, a JSON body and an oversized body', async () => {
      const post = (body: string, contentType = 'application/x-www-form-urlencoded') =>
        fetch(`${system.gatewayUrl}/oauth/token`, {
          method: 'POST',
          headers: { 'content-type': contentType, ...basicFor('ops-console', DEV_CLIENTS['ops-console']) },
          body,
        });
      const repeated = await post('grant_type=client_credentials&scope=orders:read&scope=orders:create');
      expect([repeated.status, (await repeated.json()).error]).toEqual([400, 'invalid_request']);
      const json = await post(JSON.stringify({ grant_type: 'client_credentials' }), 'application/json');
      expect([json.status, (await json.json()).error]).toEqual([400, 'invalid_request']);
      const huge = await post(`grant_type=client_credentials&scope=${'a'.repeat(20_000)}`);
      expect([huge.status, (await huge.json()).error]).toEqual([413, 'invalid_request']);
    });
  });

  describe('revocation (POST /oauth/revoke, RFC 7009)', () => {
    it('revokes an access token: the gateway refuses it within one second', async () => {
      const token = await system.clientToken('delivery-partner');
      expect((await me(bearer(token))).data.me.id).toBe('delivery-partner');
      const res = await system.oauth(
        '/oauth/revoke',
        { token, token_type_hint: 'access_token' },
        { basic: ['delivery-partner', DEV_CLIENTS['delivery-partner']] },
      );
      expect(res.status).toBe(200);
      expect(await msUntilRefused(bearer(token), Date.now())).toBeLessThan(1_000);
      // The client simply gets a new one.
      expect((await me(bearer(await system.clientToken('delivery-partner')))).data.me.id).toBe('delivery-partner');
    });

    it('revokes a refresh token with its family and the access tokens issued with it', async () => {
      const c = await system.signUpCustomer('revoke-refresh');
      const res = await system.oauth('/oauth/revoke', { token: c.refreshToken });
      expect(res.status).toBe(200);
      expect(await msUntilRefused(c.headers, Date.now())).toBeLessThan(1_000);
      expect(code(await system.graphql(REFRESH, { t: c.refreshToken }))).toBe('UNAUTHENTICATED');
    });

    it('publishes a revocation whose request never woke the relay (a crash after its commit): the timed round finds it', async () => {
      const token = await system.clientToken('delivery-partner');
      expect((await me(bearer(token))).data.me.id).toBe('delivery-partner');
      // The row as a revocation's transaction leaves it, with nothing kicking the relay afterwards.
      const { jti, exp } = decodeJwt(token);
      await system.auth.db.revokedToken.create({ data: { jti: jti!, expiresAt: new Date(exp! * 1000) } });
      // The relay's timed round runs every second; msUntilRefused gives up after 5 s.
      console.log(
        `revocation left to the timed round refused after ${await msUntilRefused(bearer(token), Date.now())} ms`,
      );
      const row = await system.auth.db.revokedToken.findUnique({ where: { jti: jti! } });
      expect(row?.publishedAt).toBeInstanceOf(Date);
    });

    it('answers 200 for unknown or malformed tokens, 400 without a token, and will not revoke another client’s token', async () => {
      for (const token of ['unknown', 'a.b.c', 'eyJhbGciOiJub25lIn0.e30.'])
        expect((await system.oauth('/oauth/revoke', { token })).status).toBe(200);
      const missing = await system.oauth('/oauth/revoke', {});
      expect([missing.status, missing.body.error]).toEqual([400, 'invalid_request']);
      const ops = await system.clientToken('ops-console');
      const other = await system.oauth(
        '/oauth/revoke',
        { token: ops },
        { basic: ['delivery-partner', DEV_CLIENTS['delivery-partner']] },
      );
      expect([other.status, other.body.error]).toEqual([400, 'unauthorized_client']);
      expect((await me(bearer(ops))).data.me.id).toBe('ops-console');
      const badClient = await system.oauth('/oauth/revoke', { token: ops }, { basic: ['delivery-partner', 'wrong'] });
      expect([badClient.status, badClient.body.error]).toEqual([401, 'invalid_client']);
    });
  });

  describe('discovery', () => {
    it('publishes RFC 8414 metadata on the gateway origin', async () => {
      const res = await fetch(`${system.gatewayUrl}/.well-known/oauth-authorization-server`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        issuer,
        token_endpoint: `${issuer}/oauth/token`,
        revocation_endpoint: `${issuer}/oauth/revoke`,
        jwks_uri: `${issuer}/.well-known/jwks.json`,
        grant_types_supported: ['client_credentials', 'refresh_token'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        scopes_supported: [...SCOPES],
      });
    });

    it('publishes the public signing keys, never a private part', async () => {
      const res = await fetch(`${system.gatewayUrl}/.well-known/jwks.json`);
      const jwks = (await res.json()) as { keys: JWK[] };
      const kid = decodeProtectedHeader(await system.clientToken('ops-console')).kid;
      expect(jwks.keys.map((k) => k.kid)).toContain(kid);
      for (const k of jwks.keys) {
        expect(k).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
        for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(k).not.toHaveProperty(priv);
      }
      const row = await system.auth.db.signingKey.findUnique({ where: { kid: kid! } });
      expect(row!.privateJwk.split('.')).toHaveLength(5); // a compact JWE, not a JWK in clear
    });
  });

  describe('the gateway refuses every token it should', () => {
    let claims: Record<string, unknown>;
    let kid: string;
    let sign: (payload: Record<string, unknown>, header?: Record<string, unknown>) => Promise<string>;

    beforeAll(async () => {
      const c = await system.signUpCustomer('forger');
      claims = decodeJwt(c.accessToken);
      kid = decodeProtectedHeader(c.accessToken).kid!;
      // The real current signing key, to make tokens that are wrong in exactly one way.
      const keys = createSigningKeyStore({
        db: system.auth.db,
        secret: authConfig({ NODE_ENV: 'test' }).signingKeySecret,
        accessTokenTtlSeconds: 3600,
        log: createLogger('test', 'silent'),
      });
      const { privateKey } = await keys.current();
      sign = (payload, header = {}) =>
        new SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid, ...header }).sign(privateKey);
    });

    const now = () => Math.floor(Date.now() / 1000);

    it('accepts a well-formed token made the same way (the control)', async () => {
      const token = await sign({ ...claims, jti: crypto.randomUUID(), iat: now(), exp: now() + 60 });
      expect((await me(bearer(token))).data.me.id).toBe(claims.sub);
    });

    it.each([
      ['expired', () => ({ iat: now() - 7200, exp: now() - 3600 })],
      ['not yet valid (nbf)', () => ({ nbf: now() + 600 })],
      ['for another audience', () => ({ aud: 'someone-else' })],
      ['from another issuer', () => ({ iss: 'https://evil.example' })],
      ['without jti', () => ({ jti: undefined })],
      ['without scope', () => ({ scope: undefined })],
    ])('refuses a token %s', async (_name, patch) => {
      const payload: Record<string, unknown> = {
        ...claims,
        jti: crypto.randomUUID(),
        iat: now(),
        exp: now() + 60,
        ...patch(),
      };
      for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
      const res = await me(bearer(await sign(payload)));
      expect(res).toMatchObject({ status: 200, errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
      expect(res.data).toBeUndefined();
    });

    it('refuses a token of another type (typ JWT instead of at+jwt)', async () => {
      const token = await sign({ ...claims, jti: crypto.randomUUID() }, { typ: 'JWT' });
      expect(code(await me(bearer(token)))).toBe('UNAUTHENTICATED');
    });

    it('refuses a tampered token (scopes added, signature kept)', async () => {
      const c = await system.signUpCustomer('tamper');
      const [h, , s] = c.accessToken.split('.');
      const body = Buffer.from(JSON.stringify({ ...decodeJwt(c.accessToken), scope: [...SCOPES].join(' ') })).toString(
        'base64url',
      );
      const res = await system.graphql(
        `mutation { createProduct(input: { sku: "TAMPER-1", name: "x", price: "1.00", initialStock: 1 }) { id } }`,
        {},
        bearer(`${h}.${body}.${s}`),
      );
      expect(res.errors?.[0]).toMatchObject({
        message: 'The access token is invalid',
        extensions: { code: 'UNAUTHENTICATED' },
      });
      expect(await system.products.db.product.count({ where: { sku: 'TAMPER-1' } })).toBe(0);
    });

    it('refuses alg: none', async () => {
      const token = new UnsecuredJWT({ ...claims, scope: [...SCOPES].join(' ') })
        .setIssuedAt()
        .setExpirationTime('1h')
        .encode();
      expect(code(await me(bearer(token)))).toBe('UNAUTHENTICATED');
    });

    it('refuses an HS256 token "signed" with the public key (algorithm confusion)', async () => {
      const jwks = (await (await fetch(`${system.gatewayUrl}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
      const pub = jwks.keys.find((k) => k.kid === kid)!;
      for (const secret of [JSON.stringify(pub), pub.n!]) {
        const token = await new SignJWT({ ...claims, jti: crypto.randomUUID() })
          .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid })
          .sign(new TextEncoder().encode(secret));
        expect(code(await me(bearer(token)))).toBe('UNAUTHENTICATED');
      }
    });

    it('refuses a token signed with another key, under our kid or its own', async () => {
      const { privateKey, publicKey } = await generateKeyPair('RS256');
      const ownKid = (await exportJWK(publicKey)).n!.slice(0, 16);
      for (const k of [kid, ownKid]) {
        const token = await new SignJWT({ ...claims, jti: crypto.randomUUID() })
          .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: k })
          .sign(privateKey);
        expect(code(await me(bearer(token)))).toBe('UNAUTHENTICATED');
      }
    });

    it.each([
      ['another scheme', (t: string) => `Token ${t}`],
      ['Basic', () => `Basic ${Buffer.from('a:b').toString('base64')}`],
      ['Bearer without a token', () => 'Bearer'],
      ['Bearer and a space', () => 'Bearer '],
      ['two tokens', (t: string) => `Bearer ${t} ${t}`],
      ['garbage', () => 'Bearer not.a.jwt'],
    ])('refuses an Authorization header with %s (not anonymous)', async (_name, header) => {
      const c = await system.signUpCustomer('headers');
      const res = await system.graphql(
        '{ products(first: 1) { totalCount } }',
        {},
        { authorization: header(c.accessToken) },
      );
      expect(res).toMatchObject({ status: 200, errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
      expect(res.data).toBeUndefined();
    });

    it('ignores the retired development identity headers', async () => {
      const res = await me({ 'x-dev-customer-id': 'alice', 'x-dev-scopes': SCOPES.join(' ') });
      expect(res.data.me).toBeNull();
      expect(
        code(
          await system.graphql(
            `mutation { createProduct(input: { sku: "DEV-1", name: "x", price: "1.00", initialStock: 1 }) { id } }`,
            {},
            { 'x-dev-customer-id': 'ops', 'x-dev-scopes': 'products:write' },
          ),
        ),
      ).toBe('UNAUTHENTICATED');
    });

    it('accepts the scheme in any letter case (RFC 7235)', async () => {
      const c = await system.signUpCustomer('case');
      expect((await me({ authorization: `bearer ${c.accessToken}` })).data.me.id).toBe(c.id);
    });

    it('sends RFC 6750 WWW-Authenticate with the refusal', async () => {
      const res = await fetch(`${system.gatewayUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer nope' },
        body: JSON.stringify({ query: ME }),
      });
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="orderflow", error="invalid_token"/);
    });
  });

  describe('signing-key rotation', () => {
    it('keeps tokens of the previous key valid until they expire, and verifies the new key’s at once', async () => {
      const before: Customer = await system.signUpCustomer('before-rotation');
      const oldKid = decodeProtectedHeader(before.accessToken).kid;
      const { kid, previousKid } = await system.auth.rotateSigningKey();
      expect(previousKid).toBe(oldKid);
      expect(kid).not.toBe(oldKid);
      const after = await system.signUpCustomer('after-rotation');
      expect(decodeProtectedHeader(after.accessToken).kid).toBe(kid);
      // The gateway knew the new key from the rotation notice, and keeps the old one.
      expect((await me(after.headers)).data.me.id).toBe(after.id);
      expect((await me(before.headers)).data.me.id).toBe(before.id);
      const jwks = (await (await fetch(`${system.gatewayUrl}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
      expect(jwks.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([kid, oldKid]));

      // Once every token of the old key has expired, the key leaves the JWKS, and verifiers drop it.
      await system.auth.db.signingKey.update({
        where: { kid: oldKid! },
        data: { retiredAt: new Date(Date.now() - 2 * 3600_000) },
      });
      const pruned = (await (await fetch(`${system.gatewayUrl}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
      expect(pruned.keys.map((k) => k.kid)).not.toContain(oldKid);
      await system.auth.rotateSigningKey(); // the announcement makes the gateway refetch
      await expect.poll(async () => code(await me(before.headers)), { timeout: 3_000 }).toBe('UNAUTHENTICATED');
      expect((await me(after.headers)).data.me.id).toBe(after.id);
    });
  });
});
