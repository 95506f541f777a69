import { STREAMS, streamOf, type EventType, type StreamName } from './events.ts';

/**
 * Who may do what on NATS: one user per service, each allowed only the subjects it publishes, the
 * durable consumers it owns, the streams it reads and the JetStream API calls those take. The
 * nats-server configuration (`authorization { users }`) of `npm start`, the tests and compose is
 * generated from this table (`natsAuthorization`), and `test/nats-access.int.test.ts` checks it
 * against the saga's declaration and a running system.
 */
export const NATS_USERS = ['auth', 'products', 'orders', 'shipments', 'gateway'] as const;
export type NatsUser = (typeof NATS_USERS)[number];

/** The operator's user (dead-letter tool, test harness): every subject. Never given to a service. */
export const NATS_ADMIN_USER = 'admin';

export interface NatsAccess {
  /** Event types the service publishes (its outbox relay, its consumers' follow-up events). */
  publishes: readonly EventType[];
  /** Its durable consumers: handler name → event type. The durable is `<service>-<handler>`. */
  consumes: Readonly<Record<string, EventType>>;
  /** Event types it reads with short-lived consumers of its own (the gateway's subscriptions). */
  follows: readonly EventType[];
  /** The token-revocation KV bucket: written by auth, read (watched) by the gateway. */
  revocations: 'write' | 'read' | null;
  /** The rate-limit KV bucket (gateway/src/shared-rate-limit.ts): read and written, compare-and-set, by every gateway. */
  rateLimits: boolean;
  /**
   * Serves the operator console (orders): reads every durable's state (its backlog), reads the
   * dead-letter stream's messages and deletes one it has replayed. A replay publishes the original
   * event, so only events the service itself publishes.
   */
  operatorConsole?: boolean;
}

export const NATS_ACCESS: Readonly<Record<NatsUser, NatsAccess>> = {
  auth: { publishes: [], consumes: {}, follows: [], revocations: 'write', rateLimits: false },
  products: {
    publishes: [
      'inventory.reserved',
      'inventory.released',
      'inventory.committed',
      'inventory.returned',
      'inventory.low_stock',
      'inventory.reservation_overdue',
    ],
    consumes: {
      'commit-reservation': 'payments.succeeded',
      'release-on-payment-failure': 'payments.failed',
      'restock-on-cancel': 'orders.cancelled',
      'settle-overdue-reservation': 'orders.reservation_checked',
    },
    follows: [],
    revocations: null,
    rateLimits: false,
  },
  orders: {
    publishes: [
      'orders.created',
      'orders.status_changed',
      'orders.cancelled',
      'payments.succeeded',
      'payments.failed',
      'payments.refunded',
      'orders.reservation_checked',
      'orders.cancel_requested',
    ],
    consumes: {
      payments: 'orders.created',
      'check-reservation': 'inventory.reservation_overdue',
      'shipment-status': 'shipments.status_updated',
      'shipment-cancelled': 'shipments.cancelled',
      'shipment-cancel-refused': 'shipments.cancel_refused',
      'email-order-received': 'orders.created',
      'email-status-changed': 'orders.status_changed',
    },
    follows: [],
    revocations: null,
    operatorConsole: true,
    rateLimits: false,
  },
  shipments: {
    publishes: ['shipments.created', 'shipments.status_updated', 'shipments.cancelled', 'shipments.cancel_refused'],
    consumes: { 'create-shipment': 'orders.status_changed', 'cancel-shipment': 'orders.cancel_requested' },
    follows: [],
    revocations: null,
    rateLimits: false,
  },
  gateway: {
    publishes: [],
    consumes: {},
    follows: ['orders.status_changed', 'inventory.low_stock'],
    revocations: 'read',
    rateLimits: true,
  },
};

/** Subject on the wire of an event type (or `dlq.<type>`) under a NATS_PREFIX. */
export const natsSubject = (prefix: string, type: string) => (prefix ? `${prefix}.${type}` : type);

/** Stream (and KV bucket) name on the wire under a NATS_PREFIX: `T1A2B_ORDERS`. */
export const natsStreamName = (prefix: string, name: string) =>
  prefix ? `${prefix.toUpperCase().replace(/[^A-Z0-9_-]/g, '_')}_${name}` : name;

/** The logical name of the revocation bucket (its stream is `KV_<bucket>`). */
export const REVOCATION_BUCKET = 'REVOCATIONS';

/** The logical name of the gateways' shared rate-limit bucket (its stream is `KV_<bucket>`). */
export const RATE_LIMIT_BUCKET = 'RATE_LIMITS';

/** Inbox prefix of a user's replies: only that user may subscribe to it, so no service reads another's replies. */
export const natsInboxPrefix = (user: string) => `_INBOX_${user}`;

export interface NatsPermissions {
  publish: { allow: string[]; deny: string[] };
  subscribe: { allow: string[] };
}

const api = (...tokens: string[]) => `$JS.API.${tokens.join('.')}`;

/** Every durable consumer of the table, with its service and stream (logical). */
export function natsDurables(): { user: NatsUser; durable: string; type: EventType; stream: StreamName }[] {
  return NATS_USERS.flatMap((user) =>
    Object.entries(NATS_ACCESS[user].consumes).map(([handler, type]) => ({
      user,
      durable: `${user}-${handler}`,
      type,
      stream: streamOf(type),
    })),
  );
}

/** The subjects `user` may publish and subscribe to, for one NATS_PREFIX. */
export function natsPermissions(user: NatsUser, prefix: string): NatsPermissions {
  const access = NATS_ACCESS[user];
  const subject = (type: string) => natsSubject(prefix, type);
  const stream = (name: string) => natsStreamName(prefix, name);
  const allow = new Set<string>([api('INFO')]);
  const deny = new Set<string>();
  const consumes = Object.entries(access.consumes);

  if (access.publishes.length || consumes.length) {
    // Every saga service creates every stream when missing (start order does not matter), but updates
    // only those it writes: another service's stream is not its to reconfigure.
    for (const s of STREAMS) for (const verb of ['CREATE', 'INFO']) allow.add(api('STREAM', verb, stream(s.name)));
    const owned = new Set<string>(access.publishes.map(streamOf));
    if (consumes.length) owned.add('DLQ');
    for (const s of owned) allow.add(api('STREAM', 'UPDATE', stream(s)));
  }
  for (const type of access.publishes) allow.add(subject(type));
  for (const [handler, type] of consumes) {
    const st = stream(streamOf(type));
    const durable = `${user}-${handler}`;
    for (const verb of ['INFO', 'CREATE', 'MSG.NEXT']) allow.add(api('CONSUMER', verb, st, durable));
    allow.add(api('CONSUMER', 'DURABLE', 'CREATE', st, durable));
    allow.add(api('CONSUMER', 'CREATE', st, durable, '>'));
    allow.add(`$JS.ACK.${st}.${durable}.>`);
    allow.add(subject(`dlq.${type}`));
  }
  for (const type of access.follows) {
    const logical = streamOf(type);
    const st = stream(logical);
    allow.add(api('STREAM', 'INFO', st));
    allow.add(api('STREAM', 'MSG', 'GET', st));
    // Consumers of its own, each filtered to the followed subject (the server checks the filter in the
    // subject against the consumer's): the gateway never reads orders.created and its payment token.
    allow.add(api('CONSUMER', 'CREATE', st, '*', subject(type)));
    for (const verb of ['INFO', 'DELETE', 'MSG.NEXT']) allow.add(api('CONSUMER', verb, st, '*'));
    allow.add(`$JS.ACK.${st}.>`);
    allow.add(`$JS.FC.${st}.>`);
    // ...but never the saga's durables on that stream: pulling from one would steal its messages.
    for (const d of natsDurables().filter((x) => x.stream === logical)) {
      for (const verb of ['INFO', 'DELETE', 'MSG.NEXT']) deny.add(api('CONSUMER', verb, st, d.durable));
      deny.add(api('CONSUMER', 'CREATE', st, d.durable, '>'));
      deny.add(`$JS.ACK.${st}.${d.durable}.>`);
    }
  }
  if (access.operatorConsole) {
    for (const d of natsDurables()) allow.add(api('CONSUMER', 'INFO', stream(d.stream), d.durable));
    allow.add(api('STREAM', 'MSG', 'GET', stream('DLQ')));
    allow.add(api('STREAM', 'MSG', 'DELETE', stream('DLQ')));
  }
  if (access.revocations) {
    const bucket = stream(REVOCATION_BUCKET);
    const kv = `KV_${bucket}`;
    // Create when missing (either may start first); only the writer may change its settings or entries.
    allow.add(api('STREAM', 'CREATE', kv));
    allow.add(api('STREAM', 'INFO', kv));
    allow.add(api('STREAM', 'MSG', 'GET', kv));
    allow.add(api('DIRECT', 'GET', kv));
    allow.add(api('DIRECT', 'GET', kv, '>'));
    allow.add(api('CONSUMER', 'CREATE', kv));
    allow.add(api('CONSUMER', 'CREATE', kv, '>'));
    for (const verb of ['INFO', 'DELETE', 'MSG.NEXT']) allow.add(api('CONSUMER', verb, kv, '*'));
    allow.add(`$JS.FC.${kv}.>`);
    if (access.revocations === 'write') {
      allow.add(api('STREAM', 'UPDATE', kv));
      allow.add(`$KV.${bucket}.>`);
    }
  }
  if (access.rateLimits) {
    const bucket = stream(RATE_LIMIT_BUCKET);
    const kv = `KV_${bucket}`;
    // Create (or bring its settings up to date), read and compare-and-set its entries; no watchers, so no consumers.
    for (const verb of ['CREATE', 'INFO', 'UPDATE']) allow.add(api('STREAM', verb, kv));
    allow.add(api('STREAM', 'MSG', 'GET', kv));
    allow.add(api('DIRECT', 'GET', kv));
    allow.add(api('DIRECT', 'GET', kv, '>'));
    allow.add(`$KV.${bucket}.>`);
  }
  return {
    publish: { allow: [...allow], deny: [...deny] },
    subscribe: { allow: [`${natsInboxPrefix(user)}.>`] },
  };
}

/** A password for each service's user and for the operator. */
export type NatsPasswords = Readonly<Record<NatsUser | typeof NATS_ADMIN_USER, string>>;

/**
 * The `authorization { users = [...] }` block of a nats-server configuration: one user per service
 * with the permissions of `natsPermissions` for each of `prefixes` (the deployment's NATS_PREFIX: ''
 * in production; tests list the prefixes their systems will use), and the operator's user.
 *
 * @param passwords A literal password per user, or (compose) a `$VARIABLE` nats-server reads from its
 *   environment; written unquoted then.
 */
export function natsAuthorization(passwords: NatsPasswords, prefixes: readonly string[] = ['']): string {
  const value = (v: string) => (/^\$[A-Z][A-Z0-9_]*$/.test(v) ? v : JSON.stringify(v));
  const list = (items: string[]) => `[${items.map((s) => JSON.stringify(s)).join(', ')}]`;
  const users = NATS_USERS.map((user) => {
    const perms = prefixes.map((p) => natsPermissions(user, p));
    const pubAllow = [...new Set(perms.flatMap((p) => p.publish.allow))];
    const pubDeny = [...new Set(perms.flatMap((p) => p.publish.deny))];
    const subAllow = [...new Set(perms.flatMap((p) => p.subscribe.allow))];
    return [
      `    {`,
      `      user: ${JSON.stringify(user)}, password: ${value(passwords[user])}`,
      `      permissions: {`,
      `        publish: { allow: ${list(pubAllow)}${pubDeny.length ? `, deny: ${list(pubDeny)}` : ''} }`,
      `        subscribe: { allow: ${list(subAllow)} }`,
      `      }`,
      `    }`,
    ].join('\n');
  });
  const admin = [
    `    {`,
    `      user: ${JSON.stringify(NATS_ADMIN_USER)}, password: ${value(passwords[NATS_ADMIN_USER])}`,
    `      permissions: { publish: { allow: [">"] }, subscribe: { allow: [">"] } }`,
    `    }`,
  ].join('\n');
  return ['authorization {', '  users = [', [...users, admin].join('\n'), '  ]', '}', ''].join('\n');
}

/** The variables holding each user's password in compose (`.env`): nats-server and the service read the same one. */
export const NATS_PASSWORD_VARIABLES: Readonly<Record<NatsUser | typeof NATS_ADMIN_USER, string>> = {
  auth: 'NATS_AUTH_PASSWORD',
  products: 'NATS_PRODUCTS_PASSWORD',
  orders: 'NATS_ORDERS_PASSWORD',
  shipments: 'NATS_SHIPMENTS_PASSWORD',
  gateway: 'NATS_GATEWAY_PASSWORD',
  admin: 'NATS_ADMIN_PASSWORD',
};
