import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ParseOptions,
  type ValidationRule,
} from 'graphql';
import { CloseCode, handleProtocols, makeServer, type WebSocket as GraphQLWsSocket } from 'graphql-ws';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { type Logger } from '@orderflow/common/observability';
import { type Viewer } from '@orderflow/common/server';
import { ErrorCode } from '@orderflow/contracts';
import { addressKey } from '../connection-limit.ts';
import { createRateLimiter, type RateLimiter } from '../rate-limit.ts';
import { createConnectionCounter } from './address-limits.ts';
import { REPLAY_BATCH, type EventHub, type HubEvent, type Replay } from './event-hub.ts';
import { createEventRouter, routeKey, type RouteListener } from './event-router.ts';
import { createExpiryWheel } from './expiry.ts';
import { startHeartbeat } from './heartbeat.ts';
import type { PayloadCounts } from './metrics.ts';
import { Feed } from './feed.ts';
import {
  SUBSCRIPTION_FIELDS,
  argument,
  parseSubscription,
  type ParsedSubscription,
  type ProjectionArgs,
} from './operation.ts';
import {
  createPayloadPlan,
  createPreparedCache,
  selectionVariables,
  type PayloadPlan,
  type PreparedSubscription,
} from './payload-plan.ts';
import { createPayloadSharing, viewerIdentityKey } from './payload-sharing.ts';
import { DEFAULT_REPLAY_BOUNDS, ReplayTooOldError, type ReplayBounds } from './replay-bounds.ts';

/** Close codes of ours, beside graphql-ws's 4401 Unauthorized / 4403 Forbidden / 4409 duplicate id. */
export const SubscriptionCloseCode = {
  /** The token expired or was revoked: refresh it and reconnect. (graphql-ws's Unauthorized) */
  Unauthorized: CloseCode.Unauthorized,
  /** The client did not read its messages fast enough; reconnect with the last cursor. (RFC 6455 "try again later") */
  SlowConsumer: 1013,
  /** The gateway is shutting down or restarting; reconnect (to another instance) with the last cursor. (RFC 6455 "service restart") */
  Restarting: 1012,
  /**
   * Too many open sockets from the client's address (`perAddress`): close
   * one, or retry later. In the private range, and not one graphql-ws's
   * client treats as fatal: it retries with its back-off.
   */
  TooManyConnections: 4029,
} as const;

export interface SubscriptionLimits {
  /** Open sockets from one client address; past it a new socket is closed with 4029. Default 32. */
  perAddress: number;
  /**
   * Subscribe messages per minute from one client address, over all its
   * sockets (a token bucket: a burst of this many, then this many a minute);
   * past it the subscribe gets RATE_LIMITED with `retryAfter`. Counted before
   * anything else is done with the message. Default 120.
   */
  subscribesPerMinute: number;
  /** How far back `after:` may replay (replay-bounds.ts). Default 10,000 events, a day. */
  replay: ReplayBounds;
  /** Concurrent subscriptions on one socket. Default 50. */
  perConnection: number;
  /** Concurrent subscriptions of one viewer on this gateway instance. Default 200. */
  perViewer: number;
  /** Events waiting for one slow subscription before it is cut off. Default 256. */
  queue: number;
  /** Unsent bytes on one socket before it is cut off. Default 1 MB. */
  socketBuffer: number;
}

export interface SubscriptionServerOptions {
  httpServer: Server;
  path: string;
  hub: EventHub;
  log: Logger;
  /** The gateway's API schema (validation). */
  schema: () => GraphQLSchema;
  /** Runs a query through the gateway (query plan, subgraphs) as `viewer`. */
  execute: (
    query: string,
    variables: Record<string, unknown> | undefined,
    viewer: Viewer | null,
  ) => Promise<ExecutionResult>;
  /** The viewer of a connection, from its connection_init params; throws when the credential is invalid. */
  authenticate: (params: Record<string, unknown> | undefined) => Promise<{ viewer: Viewer | null; expiresAt?: number }>;
  limits?: Partial<SubscriptionLimits>;
  /** Parser options of subscribe documents (the gateway's token limit). */
  parseOptions?: ParseOptions;
  /** Validation rules beside graphql-js's own (the gateway's depth, alias and directive limits). */
  validationRules?: readonly ValidationRule[];
  /**
   * Checks of a valid subscribe operation with its variables, before it is
   * admitted (the gateway's cost limit: `limits.ts` `createOperationCheck`);
   * an error refuses it. Default: none.
   */
  checkOperation?: (
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Record<string, unknown> | undefined,
  ) => GraphQLError | null;
  /** How long one payload is shared by identical subscriptions (payload-sharing.ts). Default 1,000 ms. */
  sharingWindowMs?: number;
  /**
   * Every socket is pinged this often, and closed when it has not answered
   * by the next ping (heartbeat.ts). Default 12,000 ms, graphql-ws's own:
   * a dead peer goes within 24 s, and no proxy idles the socket out.
   */
  keepAliveMs?: number;
  /**
   * The client address of an upgrade request, which the per-address limits
   * count (the gateway passes Express's `req.ip`, so that TRUST_PROXY applies
   * as for HTTP). Default: the TCP peer. IPv6 addresses are counted per /64,
   * as the HTTP connection cap counts them (`addressKey`).
   */
  clientAddress?: (req: IncomingMessage) => string;
  /**
   * The per-address bucket HTTP requests without a token draw from (the
   * gateway's ANONYMOUS_RATE_LIMIT_PER_MINUTE): each upgrade request takes a
   * token of it, and is refused with HTTP 429 and Retry-After when it is
   * empty. Default: none.
   */
  upgradeLimit?: { limiter: RateLimiter; perMinute: number };
}

/**
 * One socket, as one object: what graphql-ws's `makeServer` asks of a socket
 * (protocol, send, close, onMessage), the `extra` of its graphql-ws context,
 * and our state of it. Bound to `ws` by the server with shared listeners, not
 * graphql-ws's `useServer`, which holds per socket a suspended async function
 * for every message being handled (a subscribe's lasts as long as the
 * subscription, with the message's Buffer), closures, `once` wrappers and the
 * upgrade request.
 */
class Connection implements GraphQLWsSocket {
  viewer: Viewer | null = null;
  /**
   * The viewer as the subgraphs see it (payload-sharing.ts): payloads fetched as one identity are shared
   * only within it. Made at the first fetch (`identityOf`): an idle socket does not hold it.
   */
  identity: string | null = null;
  /** Subscriptions admitted on this socket, counted from the subscribe message (they start concurrently). */
  admitted = 0;
  /** When the access token expires (ms since the epoch): the socket is closed then (expiry.ts). */
  expiresAt: number | undefined = undefined;
  /** Closes the socket if connection_init does not come in time; dropped when it comes. */
  initTimer: NodeJS.Timeout | null = null;
  /** graphql-ws's handler of this socket's messages (`onMessage`). */
  receive: ((data: string) => Promise<void>) | null = null;
  /** graphql-ws's end of this socket (what `opened` returns), called once it closed. */
  closed: ((code: number, reason: string) => Promise<void>) | null = null;

  constructor(
    readonly socket: WebSocket,
    /** The client address the socket is counted under. */
    readonly address: string,
  ) {}

  get protocol(): string {
    return this.socket.protocol;
  }

  /** Resolves once written (graphql-ws sends a subscription's next payload after its previous one). */
  send(data: string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.socket.readyState !== this.socket.OPEN) return resolve();
      this.socket.send(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  onMessage(cb: (data: string) => Promise<void>): void {
    this.receive = cb;
  }
}

/** A close reason within the 123 bytes a close frame holds, else `fallback` (graphql-ws's rule). */
const closeReason = (reason: string, fallback: string) => (Buffer.byteLength(reason) < 124 ? reason : fallback);

/** Ownership check at subscribe: the viewer's own view of the order. */
const ORDER_CHECK = 'query SubscriptionOrderCheck($id: ID!) { order(id: $id) { id createdAt } }';

const error = (message: string, code: string, extensions: Record<string, unknown> = {}) => [
  new GraphQLError(message, { extensions: { ...extensions, code } }),
];

/** Answers an upgrade request with a plain HTTP error (before any WebSocket exists) and closes the connection. */
function refuseUpgrade(socket: Duplex, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
    'Connection: close',
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(text)}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.on('error', () => socket.destroy());
  socket.once('finish', () => socket.destroy());
  socket.end(`${lines.join('\r\n')}\r\n\r\n${text}`);
}

/**
 * GraphQL subscriptions at the gateway over graphql-ws, on the same port and
 * path as HTTP. Each subscription is fed by the gateway's JetStream hub; each
 * event's payload is resolved by running the client's selection as a
 * federated query with the client's identity, so nested fields (order items,
 * products, shipment) come out exactly as in a query.
 */
export function createSubscriptionServer(opts: SubscriptionServerOptions) {
  const limits: SubscriptionLimits = {
    perAddress: 32,
    subscribesPerMinute: 120,
    replay: DEFAULT_REPLAY_BOUNDS,
    perConnection: 50,
    perViewer: 200,
    queue: 256,
    socketBuffer: 1_000_000,
    ...opts.limits,
  };
  const { hub, log } = opts;
  // (ws's defaults otherwise: no permessage-deflate on a server, UTF-8 of text frames validated.)
  const wss = new WebSocketServer({ noServer: true, path: opts.path, maxPayload: 256 * 1024, handleProtocols });
  const connections = createConnectionCounter(limits.perAddress);
  /** Subscribe messages per address: its own buckets, apart from HTTP's. */
  const subscribes = createRateLimiter();
  const byWs = new WeakMap<WebSocket, Connection>();
  // Counted as the HTTP connection cap counts: IPv4 whole, IPv6 per /64 (one host commonly holds a whole /64).
  const peer = opts.clientAddress ?? ((req: IncomingMessage) => req.socket.remoteAddress ?? 'unknown');
  const clientAddress = (req: IncomingMessage) => addressKey(peer(req));
  const perViewer = new Map<string, number>();
  const share = createPayloadSharing<ExecutionResult>({ windowMs: opts.sharingWindowMs });
  const documents = createPreparedCache();
  const router = createEventRouter(hub);
  const computed: PayloadCounts = { event: 0, fetch: 0 };
  const expiries = createExpiryWheel<WebSocket>((socket) =>
    socket.close(SubscriptionCloseCode.Unauthorized, 'Token expired'),
  );
  const identityOf = (state: Connection) => (state.identity ??= viewerIdentityKey(state.viewer));

  /** Parses, validates and plans a subscribe document; errors as the client gets them. */
  function prepare(query: string, operationName: string | null | undefined): PreparedSubscription | GraphQLError[] {
    const schema = opts.schema();
    let document: DocumentNode;
    try {
      document = parse(query, opts.parseOptions);
    } catch (err) {
      return [new GraphQLError((err as Error).message, { extensions: { code: ErrorCode.GRAPHQL_PARSE_FAILED } })];
    }
    const invalid = validate(schema, document, [...specifiedRules, ...(opts.validationRules ?? [])]);
    if (invalid.length)
      return invalid.map(
        (e) => new GraphQLError(e.message, { extensions: { code: ErrorCode.GRAPHQL_VALIDATION_FAILED } }),
      );
    const parsed = parseSubscription(document, operationName);
    if (typeof parsed === 'string') return error(parsed, ErrorCode.BAD_REQUEST);
    try {
      return { document, parsed, plan: createPayloadPlan(schema, document, parsed) };
    } catch (err) {
      log.error({ err: (err as Error).message, field: parsed.fieldName }, 'subscription payload could not be planned');
      return error('This subscription cannot be served right now', ErrorCode.INTERNAL_SERVER_ERROR);
    }
  }
  let active = 0;

  /**
   * Upgrades are ours to admit: the per-address bucket first (HTTP 429, as a
   * request would get), then the per-address socket count (a WebSocket closed
   * with 4029 and a reason, which a browser can read; an HTTP status it
   * cannot). Admission control (MAX_IN_FLIGHT_REQUESTS) does not apply: it
   * counts requests being answered, and a socket would hold its slot for hours.
   */
  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    if (!wss.shouldHandle(req))
      return refuseUpgrade(socket, 404, {
        errors: [{ message: 'Not found', extensions: { code: ErrorCode.NOT_FOUND } }],
      });
    const address = clientAddress(req);
    const decision = opts.upgradeLimit?.limiter.take(`ip:${address}`, opts.upgradeLimit.perMinute);
    if (decision && !decision.allowed) {
      const retryAfter = decision.retryAfterSeconds;
      return refuseUpgrade(
        socket,
        429,
        {
          errors: [
            {
              message: `Rate limit exceeded; retry in ${retryAfter} s`,
              extensions: { code: ErrorCode.RATE_LIMITED, retryAfter },
            },
          ],
        },
        { 'Retry-After': String(retryAfter) },
      );
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', onSocketError);
      if (!connections.open(address)) {
        ws.close(
          SubscriptionCloseCode.TooManyConnections,
          `Too many connections from your address (at most ${limits.perAddress}); close one or retry later`,
        );
        return;
      }
      bind(ws, address);
      wss.emit('connection', ws, req);
    });
  }

  /**
   * graphql-ws on a socket (what its `useServer` does), with listeners shared by every socket: none holds a
   * closure, the upgrade request or the message being handled.
   */
  function bind(ws: WebSocket, address: string) {
    const conn = new Connection(ws, address);
    byWs.set(ws, conn);
    ws.on('message', onSocketMessage);
    ws.on('close', onSocketClose);
    // 5 s for connection_init. Our timer, not graphql-ws's: that one stays referenced, fired, for the socket's
    // whole life; this one is cleared and dropped at connection_init (onConnect).
    conn.initTimer = setTimeout(onInitTimeout, 5_000, conn).unref();
    conn.closed = protocol.opened(conn, conn);
  }
  const isProd = () => process.env.NODE_ENV === 'production';
  function onSocketMessage(this: WebSocket, data: RawData) {
    const conn = byWs.get(this);
    conn?.receive?.(String(data)).catch((err: unknown) => {
      log.error({ err: err instanceof Error ? err.message : String(err) }, 'subscription message handling failed');
      this.close(
        CloseCode.InternalServerError,
        isProd()
          ? 'Internal server error'
          : closeReason(String((err as Error)?.message ?? err), 'Internal server error'),
      );
    });
  }
  function onSocketClose(this: WebSocket, code: number, reason: Buffer) {
    const conn = byWs.get(this);
    if (!conn) return;
    connections.release(conn.address);
    if (conn.initTimer) clearTimeout(conn.initTimer);
    conn.initTimer = null;
    conn
      .closed?.(code, String(reason))
      .catch((err: Error) => log.error({ err: err.message }, 'subscription socket close failed'));
  }
  /** A frame the client got wrong (ws has closed the socket with its code: 1002, 1007, 1009) or a socket error. */
  function onSocketError(this: WebSocket, err: Error) {
    log.warn({ err: err.message }, 'subscription socket error');
    this.close(
      CloseCode.InternalServerError,
      isProd() ? 'Internal server error' : closeReason(err.message, 'Internal server error'),
    );
  }
  function onInitTimeout(conn: Connection) {
    conn.initTimer = null;
    conn.socket.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
  }
  wss.on('error', (err: Error) => {
    log.error({ err: err.message }, 'subscription server error');
    for (const ws of wss.clients) ws.close(CloseCode.InternalServerError, 'Internal server error');
  });
  opts.httpServer.on('upgrade', onUpgrade);

  async function authorize(
    parsed: ParsedSubscription,
    viewer: Viewer | null,
    variables: Record<string, unknown> | undefined,
  ) {
    if (!viewer)
      return {
        errors: error(
          'Authentication required: send a bearer token in the connection_init payload',
          ErrorCode.UNAUTHENTICATED,
        ),
      };
    if (parsed.fieldName === 'lowStockAlerts' && !viewer.scopes.has('inventory:read'))
      return { errors: error('Missing scope inventory:read', ErrorCode.FORBIDDEN) };
    if (parsed.fieldName === 'myOrderUpdates' && !viewer.scopes.has('orders:read'))
      return { errors: error('Missing scope orders:read', ErrorCode.FORBIDDEN) };
    if (parsed.fieldName !== 'orderStatusChanged') return { since: undefined };
    const orderId = argument(parsed, 'orderId', variables);
    if (typeof orderId !== 'string') return { errors: error('orderId is required', ErrorCode.BAD_USER_INPUT) };
    const res = await opts.execute(ORDER_CHECK, { id: orderId }, viewer);
    const order = (res.data as { order?: { createdAt: string } | null } | undefined)?.order;
    if (res.errors?.length)
      return { errors: res.errors.map((e) => new GraphQLError(e.message, { extensions: e.extensions })) };
    // Missing and someone else's look the same: no way to probe ids.
    if (!order) return { errors: error('Order not found', ErrorCode.NOT_FOUND) };
    return { since: new Date(Date.parse(order.createdAt) - 5_000), orderId };
  }

  function release(state: Connection, viewer: Viewer | null) {
    state.admitted--;
    if (!viewer) return;
    const n = (perViewer.get(viewer.id) ?? 1) - 1;
    if (n > 0) perViewer.set(viewer.id, n);
    else perViewer.delete(viewer.id);
  }

  function projectionArgs(parsed: ParsedSubscription, e: HubEvent): ProjectionArgs | null {
    const d = e.event.data;
    if (SUBSCRIPTION_FIELDS[parsed.fieldName].projection === 'orderStatusChange')
      return typeof d.changeId === 'string' ? { id: d.changeId } : null;
    return {
      productId: String(d.productId),
      availableQuantity: Number(d.availableQuantity),
      threshold: Number(d.threshold),
      occurredAt: e.event.occurredAt,
    };
  }

  /** The client's variables of a plan that uses none (most): one object and one key for all its subscriptions. */
  const NO_VARIABLES: Record<string, unknown> = Object.freeze({});
  const selections = new WeakMap<PayloadPlan, string>();

  /**
   * One client subscription: its feed of events, its route and its replay,
   * in one object whose methods do the work. Nothing is a closure made per
   * subscription: an idle subscription would hold each (~60 B, and ~320 B
   * more once esbuild's keepNames, in tsx and in our build, gives a closure
   * its own `name` property).
   */
  class LiveSubscription extends Feed implements RouteListener {
    /** Live events that came while the missed ones were replayed. */
    private early: HubEvent[] | null = null;
    private replaying: boolean;
    /** Ends the replay the moment the subscriber completes or disconnects (Feed.return()). */
    private readonly abort: AbortController | null;
    /** The client's variables the payload depends on. */
    private readonly client: Record<string, unknown>;
    /** The selection: the plan (one per document text) and the client's variables it uses (the sharing keys). */
    private readonly selection: string;

    constructor(
      private readonly parsed: ParsedSubscription,
      private readonly plan: PayloadPlan,
      private readonly state: Connection,
      variables: Record<string, unknown> | undefined,
      /** The order of an orderStatusChanged (its ownership was checked at subscribe). */
      private readonly orderId: string | undefined,
      private readonly replay: Replay | null,
      after: number | null,
    ) {
      super({ afterSeq: after ?? 0, maxQueue: limits.queue });
      this.replaying = replay != null;
      this.abort = replay ? new AbortController() : null;
      if (plan.clientVariables.length) {
        this.client = selectionVariables(plan, variables);
        this.selection = `${plan.id}\u0000${JSON.stringify(this.client)}`;
      } else {
        this.client = NO_VARIABLES;
        let selection = selections.get(plan);
        if (!selection) selections.set(plan, (selection = `${plan.id}\u0000{}`));
        this.selection = selection;
      }
    }

    private get viewer(): Viewer {
      return this.state.viewer!;
    }

    private get eventType(): string {
      return SUBSCRIPTION_FIELDS[this.parsed.fieldName].eventType;
    }

    /** The key live events of this subscription come under (event-router.ts). */
    private get route(): string {
      if (this.parsed.fieldName === 'orderStatusChanged') return routeKey.order(this.orderId!);
      if (this.parsed.fieldName === 'myOrderUpdates') return routeKey.customer(this.viewer.id);
      return routeKey.all;
    }

    /** Whether an event is for this subscription (a replay reads every event of the type). */
    private matches(e: HubEvent): boolean {
      if (this.parsed.fieldName === 'orderStatusChanged') return e.event.data.orderId === this.orderId;
      if (this.parsed.fieldName === 'myOrderUpdates') return e.event.data.customerId === this.viewer.id;
      return true;
    }

    /** Live events wait while the missed ones are replayed; the feed drops what it has seen. */
    onEvent(e: HubEvent): void {
      if (!this.matches(e)) return;
      if (this.replaying) (this.early ??= []).push(e);
      else this.push(e);
    }

    start(): void {
      router.add(this.eventType, this.route, this);
      active++;
      const { replay, abort } = this;
      if (!replay || !abort) return;
      replay
        // A batch is read once the feed has room for all of it: a long replay never overflows the queue.
        .run(
          (e) => {
            if (this.matches(e)) this.push(e);
          },
          abort.signal,
          () => this.room(Math.max(1, limits.queue - REPLAY_BATCH)),
        )
        .then(
          () => {
            this.replaying = false;
            for (const e of this.early ?? []) this.push(e);
            this.early = null;
          },
          (err: Error) => {
            if (abort.signal.aborted) return;
            // A gap would be silent: end this subscription instead, and let the client resubscribe.
            log.warn({ err: err.message }, 'subscription replay failed');
            this.fail(
              new GraphQLError('The missed events could not all be read; subscribe again with your last cursor', {
                extensions: { code: ErrorCode.SERVICE_UNAVAILABLE },
              }),
            );
          },
        );
    }

    protected async resolve(e: HubEvent): Promise<ExecutionResult | null> {
      const { parsed, plan, client, selection, state, viewer } = this;
      const socket = state.socket;
      const projected = projectionArgs(parsed, e);
      if (!projected) return null;
      // One payload per event and selection when the event carries all it asks for (the route, the match and the
      // check at subscribe made sure the event is this viewer's to see); else one per viewer identity too.
      const result = plan.needsFetch(e)
        ? await share(`${identityOf(state)}\u0000${selection}\u0000${e.seq}`, () => {
            computed.fetch++;
            return plan.fetched(e, plan.variables(client, projected), (query, variables) =>
              opts.execute(query, variables, viewer),
            );
          })
        : await share(`\u0000${selection}\u0000${e.seq}`, async () => {
            computed.event++;
            return plan.local(e, plan.variables(client, projected));
          });
      const payload = (result.data as Record<string, unknown> | null | undefined)?.[parsed.responseKey];
      if (payload == null && !result.errors?.length) return null; // no longer visible to this viewer
      if (socket.bufferedAmount > limits.socketBuffer) {
        socket.close(SubscriptionCloseCode.SlowConsumer, 'Slow consumer: reconnect with your last cursor');
        return null;
      }
      // graphql-ws serialises errors with toJSON(): the gateway's answer holds formatted (plain) ones.
      const errors = result.errors?.map((x) => new GraphQLError(x.message, { path: x.path, extensions: x.extensions }));
      return { ...result, ...(errors ? { errors } : {}), extensions: { cursor: String(e.seq) } };
    }

    protected onOverflow(): void {
      this.state.socket.close(SubscriptionCloseCode.SlowConsumer, 'Slow consumer: reconnect with your last cursor');
    }

    protected onClose(): void {
      this.abort?.abort();
      void this.replay?.close();
      router.remove(this.eventType, this.route, this);
      active--;
      release(this.state, this.viewer);
    }
  }

  const protocol = makeServer<Record<string, unknown>, Connection>({
    schema: () => opts.schema(),
    connectionInitWaitTimeout: 0, // bind(): our own timer
    async onConnect(ctx) {
      const conn = ctx.extra;
      if (conn.initTimer) clearTimeout(conn.initTimer);
      conn.initTimer = null;
      const params = ctx.connectionParams;
      // Held by graphql-ws for the socket's life otherwise: the bearer token, which nothing reads after this.
      // (Cleared, not deleted: a delete would turn the context into a slower, bigger dictionary.)
      (ctx as { connectionParams?: unknown }).connectionParams = undefined;
      let auth;
      try {
        auth = await opts.authenticate(params);
      } catch (err) {
        conn.socket.close(CloseCode.Unauthorized, (err as Error).message.slice(0, 120) || 'Unauthorized');
        return false;
      }
      conn.viewer = auth.viewer;
      conn.expiresAt = auth.expiresAt;
      // (A socket that closed meanwhile is not added: its onClose has run.)
      if (auth.expiresAt && conn.socket.readyState === conn.socket.OPEN) expiries.add(conn.socket, auth.expiresAt);
      return true;
    },
    async onSubscribe(ctx, _id, payload) {
      const state = ctx.extra;
      // First, before any work: a loop of subscribe/complete costs the looper its budget, nothing else.
      const rate = subscribes.take(state.address, limits.subscribesPerMinute);
      if (!rate.allowed)
        return error(
          `Too many subscribe messages from your address; retry in ${rate.retryAfterSeconds} s`,
          ErrorCode.RATE_LIMITED,
          { retryAfter: rate.retryAfterSeconds },
        );
      const prepared = documents.get(opts.schema(), payload.query, payload.operationName, () =>
        prepare(payload.query, payload.operationName),
      );
      if (Array.isArray(prepared)) return prepared;
      const { document, parsed, plan } = prepared;
      // graphql-ws keeps the subscribe message as long as the subscription: its own copy of the text gives way
      // to the one all subscriptions of this text share (the prepared document's source; the cache key is the text).
      if (document.loc) (payload as { query: string }).query = document.loc.source.body;
      const refused = opts.checkOperation?.(opts.schema(), document, parsed.operation, payload.variables ?? undefined);
      if (refused) {
        // As over HTTP, minus the status code, which means nothing on a socket.
        const { http: _status, ...extensions } = refused.extensions;
        return [new GraphQLError(refused.message, { nodes: refused.nodes, extensions })];
      }
      const after = argument(parsed, 'after', payload.variables ?? undefined);
      if (after != null && (typeof after !== 'string' || !/^\d{1,15}$/.test(after)))
        return error('after must be a cursor from an earlier payload (extensions.cursor)', ErrorCode.BAD_USER_INPUT);
      // Admit before any await: a burst of subscribe messages is handled concurrently.
      if (state.admitted >= limits.perConnection)
        return error(`At most ${limits.perConnection} subscriptions per connection`, ErrorCode.RATE_LIMITED);
      const viewer = state.viewer;
      if (viewer && (perViewer.get(viewer.id) ?? 0) >= limits.perViewer)
        return error(`At most ${limits.perViewer} concurrent subscriptions per client`, ErrorCode.RATE_LIMITED);
      state.admitted++;
      if (viewer) perViewer.set(viewer.id, (perViewer.get(viewer.id) ?? 0) + 1);
      const granted = await authorize(parsed, viewer, payload.variables ?? undefined).catch((err: Error) => ({
        errors: error(err.message, ErrorCode.INTERNAL_SERVER_ERROR),
      }));
      if ('errors' in granted && granted.errors) {
        release(state, viewer);
        return granted.errors;
      }
      // A replay is bounded before it reads anything: past its bounds the client is told to refetch.
      let replay: Replay | null = null;
      if (after != null) {
        const eventType = SUBSCRIPTION_FIELDS[parsed.fieldName].eventType;
        const from = Number(after) === 0 && granted.since ? { since: granted.since } : { afterSeq: Number(after) };
        try {
          replay = await hub.openReplay(eventType, from, limits.replay);
        } catch (err) {
          release(state, viewer);
          if (err instanceof ReplayTooOldError)
            return error(err.message, ErrorCode.REPLAY_TOO_OLD, { reason: err.refusal });
          log.warn({ err: (err as Error).message }, 'subscription replay could not start');
          return error('The missed events cannot be read right now; please retry', ErrorCode.SERVICE_UNAVAILABLE);
        }
      }
      return {
        schema: opts.schema(),
        document,
        variableValues: payload.variables,
        operationName: payload.operationName,
        contextValue: {
          parsed,
          plan,
          after: after == null ? null : Number(after),
          orderId: 'orderId' in granted ? granted.orderId : undefined,
          replay,
          state,
        },
      };
    },
    async subscribe(args) {
      const c = args.contextValue as {
        parsed: ParsedSubscription;
        plan: PayloadPlan;
        after: number | null;
        orderId?: string;
        replay: Replay | null;
        state: Connection;
      };
      // graphql-ws keeps the execution arguments as long as the subscription: not this object too.
      (args as { contextValue?: unknown }).contextValue = undefined;
      const live = new LiveSubscription(
        c.parsed,
        c.plan,
        c.state,
        args.variableValues as Record<string, unknown> | undefined,
        c.orderId,
        c.replay,
        c.after,
      );
      live.start();
      return live;
    },
    onClose(ctx) {
      const conn = ctx.extra;
      if (conn.expiresAt) expiries.delete(conn.socket, conn.expiresAt);
      // Its subscriptions: graphql-ws returns each (Feed.return()) before this hook.
    },
  });
  // Keep-alive: one timer for all sockets, not graphql-ws's two per socket.
  const heartbeat = startHeartbeat(wss, { intervalMs: opts.keepAliveMs });

  return {
    /** Subscriptions open on this instance. */
    get active() {
      return active;
    },
    /** Payloads computed since start, by source (metrics.ts). */
    get payloadsComputed(): PayloadCounts {
      return { ...computed };
    },
    /** Replays reading the stream right now. */
    get replays() {
      return hub.activeReplays;
    },
    /** Closes every socket authenticated with this access token (it was revoked). */
    closeToken(tokenId: string, reason = 'Token revoked') {
      for (const socket of wss.clients)
        if (byWs.get(socket)?.viewer?.tokenId === tokenId) socket.close(SubscriptionCloseCode.Unauthorized, reason);
    },
    /** Completes every subscriber with a close code clients reconnect on. */
    async close() {
      for (const socket of wss.clients) socket.close(SubscriptionCloseCode.Restarting, 'Server restarting');
      opts.httpServer.off('upgrade', onUpgrade);
      heartbeat.stop();
      expiries.stop();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
