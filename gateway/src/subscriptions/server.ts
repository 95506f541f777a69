import type { Server } from 'node:http';
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
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { ErrorCode, type Logger, type Viewer } from '@orderflow/common';
import type { EventHub, HubEvent } from './event-hub.ts';
import { Feed } from './feed.ts';
import {
  SUBSCRIPTION_FIELDS,
  argument,
  createPayloadQuery,
  parseSubscription,
  type ParsedSubscription,
  type ProjectionArgs,
} from './operation.ts';
import { createPayloadSharing, viewerIdentityKey } from './payload-sharing.ts';

/** Close codes of ours, beside graphql-ws's 4401 Unauthorized / 4403 Forbidden / 4409 duplicate id. */
export const SubscriptionCloseCode = {
  /** The token expired or was revoked: refresh it and reconnect. (graphql-ws's Unauthorized) */
  Unauthorized: CloseCode.Unauthorized,
  /** The client did not read its messages fast enough; reconnect with the last cursor. (RFC 6455 "try again later") */
  SlowConsumer: 1013,
  /** The gateway is shutting down or restarting; reconnect (to another instance) with the last cursor. (RFC 6455 "service restart") */
  Restarting: 1012,
} as const;

export interface SubscriptionLimits {
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
}

interface ConnectionState {
  viewer: Viewer | null;
  feeds: Set<Feed>;
  /** Subscriptions admitted on this socket, counted from the subscribe message (they start concurrently). */
  admitted: number;
  expiry?: NodeJS.Timeout;
}

/** Ownership check at subscribe: the viewer's own view of the order. */
const ORDER_CHECK = 'query SubscriptionOrderCheck($id: ID!) { order(id: $id) { id createdAt } }';

const error = (message: string, code: string) => [new GraphQLError(message, { extensions: { code } })];

/**
 * GraphQL subscriptions at the gateway over graphql-ws, on the same port and
 * path as HTTP. Each subscription is fed by the gateway's JetStream hub; each
 * event's payload is resolved by running the client's selection as a
 * federated query with the client's identity, so nested fields (order items,
 * products, shipment) come out exactly as in a query.
 */
export function createSubscriptionServer(opts: SubscriptionServerOptions) {
  const limits: SubscriptionLimits = {
    perConnection: 50,
    perViewer: 200,
    queue: 256,
    socketBuffer: 1_000_000,
    ...opts.limits,
  };
  const { hub, log } = opts;
  const wss = new WebSocketServer({ server: opts.httpServer, path: opts.path, maxPayload: 256 * 1024 });
  const perViewer = new Map<string, number>();
  const states = new WeakMap<WebSocket, ConnectionState>();
  const share = createPayloadSharing<ExecutionResult>({ windowMs: opts.sharingWindowMs });
  let active = 0;

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

  function release(state: ConnectionState, viewer: Viewer | null) {
    state.admitted--;
    if (!viewer) return;
    const n = (perViewer.get(viewer.id) ?? 1) - 1;
    if (n > 0) perViewer.set(viewer.id, n);
    else perViewer.delete(viewer.id);
  }

  function matcher(parsed: ParsedSubscription, viewer: Viewer, orderId?: string) {
    if (parsed.fieldName === 'orderStatusChanged') return (e: HubEvent) => e.event.data.orderId === orderId;
    if (parsed.fieldName === 'myOrderUpdates') return (e: HubEvent) => e.event.data.customerId === viewer.id;
    return () => true;
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

  useServer<Record<string, unknown>, { socket: WebSocket }>(
    {
      schema: () => opts.schema(),
      connectionInitWaitTimeout: 5_000,
      async onConnect(ctx) {
        const socket = ctx.extra.socket;
        let auth;
        try {
          auth = await opts.authenticate(ctx.connectionParams);
        } catch (err) {
          socket.close(CloseCode.Unauthorized, (err as Error).message.slice(0, 120) || 'Unauthorized');
          return false;
        }
        const state: ConnectionState = { viewer: auth.viewer, feeds: new Set(), admitted: 0 };
        if (auth.expiresAt) {
          const ms = auth.expiresAt - Date.now();
          state.expiry = setTimeout(
            () => socket.close(SubscriptionCloseCode.Unauthorized, 'Token expired'),
            Math.max(0, ms),
          );
          state.expiry.unref();
        }
        states.set(socket, state);
        return true;
      },
      async onSubscribe(ctx, _id, payload) {
        const state = states.get(ctx.extra.socket)!;
        let document: DocumentNode;
        try {
          document = parse(payload.query, opts.parseOptions);
        } catch (err) {
          return [new GraphQLError((err as Error).message, { extensions: { code: ErrorCode.GRAPHQL_PARSE_FAILED } })];
        }
        const invalid = validate(opts.schema(), document, [...specifiedRules, ...(opts.validationRules ?? [])]);
        if (invalid.length)
          return invalid.map(
            (e) => new GraphQLError(e.message, { extensions: { code: ErrorCode.GRAPHQL_VALIDATION_FAILED } }),
          );
        const parsed = parseSubscription(document, payload.operationName);
        if (typeof parsed === 'string') return error(parsed, ErrorCode.BAD_REQUEST);
        const refused = opts.checkOperation?.(
          opts.schema(),
          document,
          parsed.operation,
          payload.variables ?? undefined,
        );
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
        return {
          schema: opts.schema(),
          document,
          variableValues: payload.variables,
          operationName: payload.operationName,
          contextValue: {
            parsed,
            viewer: viewer!,
            after: after == null ? null : Number(after),
            since: granted.since,
            orderId: 'orderId' in granted ? granted.orderId : undefined,
            socket: ctx.extra.socket,
            state,
          },
        };
      },
      async subscribe(args) {
        const c = args.contextValue as {
          parsed: ParsedSubscription;
          viewer: Viewer;
          after: number | null;
          since?: Date;
          orderId?: string;
          socket: WebSocket;
          state: ConnectionState;
        };
        const { parsed, viewer, socket, state } = c;
        const eventType = SUBSCRIPTION_FIELDS[parsed.fieldName].eventType;
        const matches = matcher(parsed, viewer, c.orderId);
        const variables = (args.variableValues ?? undefined) as Record<string, unknown> | undefined;
        // One text per subscription, the event's values as variables: parsed, validated and planned once.
        const payloadQuery = createPayloadQuery(opts.schema(), args.document, parsed, variables);
        // The query's variables follow from the client's and the event's: identical subscriptions share one execution per event.
        const sharedBy = `${viewerIdentityKey(viewer)}\u0000${payloadQuery.query}\u0000${JSON.stringify(variables ?? {})}\u0000`;
        let unlisten = () => {};
        const feed: Feed = new Feed({
          afterSeq: c.after ?? 0,
          maxQueue: limits.queue,
          async resolve(e) {
            const projected = projectionArgs(parsed, e);
            if (!projected) return null;
            const result = await share(sharedBy + JSON.stringify(projected), () =>
              opts.execute(payloadQuery.query, payloadQuery.variables(projected), viewer),
            );
            const payload = (result.data as Record<string, unknown> | null | undefined)?.[parsed.responseKey];
            if (payload == null && !result.errors?.length) return null; // no longer visible to this viewer
            if (socket.bufferedAmount > limits.socketBuffer) {
              socket.close(SubscriptionCloseCode.SlowConsumer, 'Slow consumer: reconnect with your last cursor');
              return null;
            }
            return { ...result, extensions: { cursor: String(e.seq) } };
          },
          onOverflow: () =>
            socket.close(SubscriptionCloseCode.SlowConsumer, 'Slow consumer: reconnect with your last cursor'),
          onClose() {
            unlisten();
            state.feeds.delete(feed);
            active--;
            release(state, viewer);
          },
        });
        state.feeds.add(feed);
        active++;

        // Live events wait while the missed ones are replayed; the feed drops what it has seen.
        const early: HubEvent[] = [];
        let replaying = c.after != null;
        unlisten = hub.listen(eventType, (e) => {
          if (!matches(e)) return;
          if (replaying) early.push(e);
          else feed.push(e);
        });
        if (c.after != null) {
          const from = c.after === 0 && c.since ? { since: c.since } : { afterSeq: c.after };
          hub
            .replay(eventType, from, (e) => matches(e) && feed.push(e))
            .catch((err) => log.warn({ err: (err as Error).message }, 'subscription replay failed'))
            .finally(() => {
              replaying = false;
              for (const e of early.splice(0)) feed.push(e);
            });
        }
        return feed;
      },
      onClose(ctx) {
        const state = states.get(ctx.extra.socket);
        if (!state) return;
        clearTimeout(state.expiry);
        for (const feed of [...state.feeds]) void feed.return();
      },
    },
    wss,
    12_000,
  );

  return {
    /** Subscriptions open on this instance. */
    get active() {
      return active;
    },
    /** Closes every socket authenticated with this access token (it was revoked). */
    closeToken(tokenId: string, reason = 'Token revoked') {
      for (const socket of wss.clients)
        if (states.get(socket)?.viewer?.tokenId === tokenId) socket.close(SubscriptionCloseCode.Unauthorized, reason);
    },
    /** Completes every subscriber with a close code clients reconnect on. */
    async close() {
      for (const socket of wss.clients) socket.close(SubscriptionCloseCode.Restarting, 'Server restarting');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
