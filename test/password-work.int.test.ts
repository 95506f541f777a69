import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INTERNAL_TOKEN_HEADER, createInternalAuth, resolveInternalSecret } from '@orderflow/common/server';
import { createPasswordHasher } from '../subgraphs/auth/src/service/passwords.ts';
import { startSystem, type System } from './support/system.ts';
import { graphqlFrom, requestFrom } from './hostile/support/bystander.ts';

// Password work is bounded (docs/decisions/001-password-work.md): failed log-ins are throttled per account and
// address before any hash, hashes wait in a bounded queue, and signUp/logIn cannot be multiplied by aliases.

const LOG_IN = `mutation($input: LogInInput!) { logIn(input: $input) { accessToken } }`;
const SIGN_UP = `mutation($input: SignUpInput!) { signUp(input: $input) { accessToken } }`;
const code = (json: any) => json?.errors?.[0]?.extensions?.code as string | undefined;
const newEmail = (tag: string) => `${tag}-${Math.random().toString(36).slice(2, 10)}@example.test`;
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

describe('password work is bounded', () => {
  let system: System;
  // Each test uses its own loopback address as "the attacker": the throttle's state is per address.
  let nextAddress = 10;
  const freshAddress = () => `127.0.0.${nextAddress++}`;
  const logInFrom = (address: string, email: string, password: string) =>
    graphqlFrom(address, system, LOG_IN, { input: { email, password } });

  beforeAll(async () => {
    // Cheap hashes and a long queue: these tests count what the throttle lets through, not what the queue does.
    system = await startSystem({ env: { PASSWORD_HASH_COST: '10', PASSWORD_HASH_QUEUE: '100' } });
  });
  afterAll(async () => system?.stop());

  it('refuses the sixth wrong password for an account from one address with RATE_LIMITED and retryAfter', async () => {
    const owner = await system.signUpCustomer('throttled');
    const attacker = freshAddress();
    const answers: { code?: string; retryAfter?: number }[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await logInFrom(attacker, owner.email, `wrong password ${i}`);
      answers.push({ code: code(res.json), retryAfter: res.json.errors?.[0]?.extensions?.retryAfter });
    }
    expect(answers.map((a) => a.code)).toEqual([...Array(5).fill('UNAUTHENTICATED'), ...Array(3).fill('RATE_LIMITED')]);
    for (const a of answers.slice(5)) {
      expect(a.retryAfter).toBeGreaterThanOrEqual(1);
      expect(a.retryAfter).toBeLessThanOrEqual(60);
    }
    // Operators see it: auth_password_checks_refused_total{reason="throttled",kind="login"}.
    const metrics = await (await fetch(`${system.urls.AUTH_URL}/metrics`)).text();
    const refusals = metrics
      .split('\n')
      .find(
        (l) =>
          l.startsWith('auth_password_checks_refused_total{') && /reason="throttled"/.test(l) && /kind="login"/.test(l),
      );
    expect(Number(refusals?.split(' ').at(-1))).toBeGreaterThanOrEqual(3);
    // Even the right password is refused from there for now: the throttle is decided before the check.
    expect(code((await logInFrom(attacker, owner.email, owner.password)).json)).toBe('RATE_LIMITED');
    // The owner, at another address, logs in.
    const mine = await logInFrom(freshAddress(), owner.email, owner.password);
    expect(mine.json.data?.logIn?.accessToken).toBeTruthy();
  });

  it('holds a concurrent burst to at most the same five checks', async () => {
    const owner = await system.signUpCustomer('burst');
    const attacker = freshAddress();
    const burst = await Promise.all(
      Array.from({ length: 30 }, (_, i) => logInFrom(attacker, owner.email, `wrong password ${i}`)),
    );
    const codes = burst.map((r) => code(r.json));
    const checked = codes.filter((c) => c === 'UNAUTHENTICATED').length;
    expect(checked).toBeGreaterThanOrEqual(1);
    expect(checked).toBeLessThanOrEqual(5);
    expect(codes.filter((c) => c === 'RATE_LIMITED')).toHaveLength(30 - checked);
  });

  it('throttles an unknown email exactly like a known one (no oracle)', async () => {
    const attacker = freshAddress();
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 7; i++) codes.push(code((await logInFrom(attacker, newEmail('nobody-fixed'), 'x')).json));
    // Different unknown emails: each is its own account, so only the address's cap (30) would apply…
    expect(codes).toEqual(Array(7).fill('UNAUTHENTICATED'));
    // …and one unknown email tried again and again is throttled like a real account.
    const ghost = newEmail('ghost');
    const again: (string | undefined)[] = [];
    for (let i = 0; i < 6; i++) again.push(code((await logInFrom(freshAddress(), ghost, 'x')).json));
    // Five addresses × one failure each stay under the account's cap (20): all checked.
    expect(again).toEqual(Array(6).fill('UNAUTHENTICATED'));
    const one = freshAddress();
    const fromOne: (string | undefined)[] = [];
    for (let i = 0; i < 6; i++) fromOne.push(code((await logInFrom(one, ghost, 'x')).json));
    expect(fromOne).toEqual([...Array(5).fill('UNAUTHENTICATED'), 'RATE_LIMITED']);
  });

  it('caps one address over many accounts', async () => {
    const sprayer = freshAddress();
    // At once: the tokens are taken before the checks, so a slow machine's refills cannot blur the count.
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => logInFrom(sprayer, newEmail('spray'), 'password1')),
    );
    const codes = answers.map((r) => code(r.json));
    expect(codes.filter((c) => c === 'UNAUTHENTICATED')).toHaveLength(30);
    expect(codes.filter((c) => c === 'RATE_LIMITED')).toHaveLength(10);
  });

  it('throttles client authentication at /oauth/token per client id and address (unknown ids too), with 429 and Retry-After', async () => {
    const attacker = freshAddress();
    const token = (address: string, id: string, secret: string) =>
      requestFrom(address, `${system.gatewayUrl}/oauth/token`, {
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(id, secret) },
        body: 'grant_type=client_credentials',
      });
    for (const id of ['ops-console', 'no-such-client']) {
      const statuses: number[] = [];
      let last;
      for (let i = 0; i < 6; i++) {
        last = await token(attacker, id, `guess-${i}`);
        statuses.push(last.status);
      }
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
      expect(last!.json).toEqual({ error: 'rate_limited', error_description: expect.stringMatching(/retry in \d+ s/) });
      expect(Number(last!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    // The real ops console, elsewhere, still gets its token.
    expect((await token(freshAddress(), 'ops-console', 'ops-console-dev-secret')).status).toBe(200);
  });

  it('refuses more than one signUp or logIn in one operation, creating nothing', async () => {
    const [a, b] = [newEmail('alias-a'), newEmail('alias-b')];
    const input = (email: string) => `{ email: "${email}", password: "long enough pw", name: "Alias" }`;
    const operations = [
      `mutation { a: signUp(input: ${input(a)}) { accessToken } b: signUp(input: ${input(b)}) { accessToken } }`,
      `mutation { a: signUp(input: ${input(a)}) { accessToken } ...more }
       fragment more on Mutation { b: logIn(input: { email: "${b}", password: "x" }) { accessToken } }`,
      `mutation { signUp(input: ${input(a)}) { accessToken } ... on Mutation { logIn(input: { email: "${b}", password: "x" }) { accessToken } } }`,
    ];
    for (const query of operations) {
      const res = await system.graphql(query);
      expect(res.errors?.map((e) => e.extensions?.code)).toContain('BAD_USER_INPUT');
      expect(res.errors?.[0].message).toMatch(/at most one signUp or logIn/);
      expect(res.data ?? null).toBeNull();
    }
    // Split by the query planner into two fetches to the auth service (another service's field in between):
    // the gateway still sees one operation.
    const customer = await system.signUpCustomer('interleaver');
    const interleaved = await system.graphql(
      `mutation { a: signUp(input: ${input(a)}) { accessToken }
        x: cancelOrder(orderId: "00000000-0000-4000-8000-000000000000") { __typename }
        b: signUp(input: ${input(b)}) { accessToken } }`,
      {},
      customer.headers,
    );
    expect(interleaved.errors?.map((e) => e.extensions?.code)).toContain('BAD_USER_INPUT');
    expect(await system.auth.db.user.count({ where: { email: { in: [a, b] } } })).toBe(0);
    // One per operation is fine.
    expect(
      (await system.graphql(SIGN_UP, { input: { email: a, password: 'long enough pw', name: 'A' } })).errors,
    ).toBeUndefined();
  });

  it('is refused by the auth service too when an operation with two reaches it directly (defence in depth)', async () => {
    const gateway = createInternalAuth({ secret: resolveInternalSecret('test', undefined), issuer: 'gateway' });
    const [a, b] = [newEmail('direct-a'), newEmail('direct-b')];
    const input = (email: string) => `{ email: "${email}", password: "long enough pw", name: "Direct" }`;
    const res = await fetch(`${system.urls.AUTH_URL}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [INTERNAL_TOKEN_HEADER]: await gateway.sign(null) },
      body: JSON.stringify({
        query: `mutation { a: signUp(input: ${input(a)}) { accessToken } b: signUp(input: ${input(b)}) { accessToken } }`,
      }),
    });
    const body = (await res.json()) as { errors?: { extensions?: { code?: string } }[] };
    expect(body.errors?.map((e) => e.extensions?.code)).toContain('BAD_USER_INPUT');
    expect(await system.auth.db.user.count({ where: { email: { in: [a, b] } } })).toBe(0);
  });

  it('rehashes a password made with older parameters at its next log-in', async () => {
    const c = await system.signUpCustomer('old-hash');
    const old = await createPasswordHasher({ cost: 12 }).hash(c.password);
    await system.auth.db.user.update({ where: { id: c.id }, data: { passwordHash: old } });
    const res = await system.graphql(LOG_IN, { input: { email: c.email, password: c.password } });
    expect(res.data.logIn.accessToken).toBeTruthy();
    const row = await system.auth.db.user.findUnique({ where: { id: c.id } });
    expect(row!.passwordHash).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$/);
    expect((await system.graphql(LOG_IN, { input: { email: c.email, password: c.password } })).errors).toBeUndefined();
  });
});

describe('hashing (at the test cost, 15)', () => {
  let system: System;
  beforeAll(async () => {
    // One hash at a time and one waiting: a burst of sign-ups overflows it at once.
    system = await startSystem({ env: { PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE: '1' } });
  });
  afterAll(async () => system?.stop());

  it('takes as long for an unknown client id as for a wrong secret (no timing oracle)', async () => {
    const address = '127.0.0.250';
    const token = async (id: string) => {
      const t = performance.now();
      const res = await requestFrom(address, `${system.gatewayUrl}/oauth/token`, {
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(id, 'wrong-secret') },
        body: 'grant_type=client_credentials',
      });
      expect(res.status).toBe(401);
      return performance.now() - t;
    };
    const wrong: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 4; i++) {
      wrong.push(await token('ops-console'));
      unknown.push(await token(`nobody-${i}`));
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    // Without the dummy hash the unknown id would answer in a fraction of the time; the margin is for a busy machine.
    const ratio = median(wrong) / median(unknown);
    console.log(
      `[password-work] client auth: wrong secret ${Math.round(median(wrong))} ms, unknown id ${Math.round(median(unknown))} ms`,
    );
    expect(ratio).toBeGreaterThan(1 / 3);
    expect(ratio).toBeLessThan(3);
  });

  it('answers SERVICE_UNAVAILABLE with retryAfter beyond it, hashing and creating nothing for those', async () => {
    const emails = Array.from({ length: 8 }, () => newEmail('queue'));
    const answers = await Promise.all(
      emails.map((email) => system.graphql(SIGN_UP, { input: { email, password: 'long enough pw', name: 'Q' } })),
    );
    const busy = answers.flatMap((r, i) => (r.errors?.[0].extensions?.code === 'SERVICE_UNAVAILABLE' ? [i] : []));
    const created = answers.flatMap((r, i) => (r.data?.signUp?.accessToken ? [i] : []));
    expect(busy.length).toBeGreaterThan(0);
    expect(busy.length + created.length).toBe(8);
    for (const i of busy) {
      expect(answers[i].errors?.[0]).toMatchObject({
        message: expect.stringMatching(/retry in 1 s/),
        extensions: { code: 'SERVICE_UNAVAILABLE', retryAfter: 1 },
      });
      expect(await system.auth.db.user.count({ where: { email: emails[i] } })).toBe(0);
    }
    // Once the burst is over, the queue takes work again.
    expect((await system.signUpCustomer('after-burst')).accessToken).toBeTruthy();
  });
});
