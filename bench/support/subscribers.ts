/**
 * Many graphql-ws clients in the bench process, each a real WebSocket to the
 * gateway with the customer's bearer token in connection_init (as a web or
 * mobile app does), each with one subscription.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { BenchCustomer } from './stack.ts';
import { wallNow } from './stats.ts';

/** What the suite and the saga bench follow: every status change of the customer's orders. */
export const MY_ORDER_UPDATES = `subscription MyOrderUpdates { myOrderUpdates { orderId previousStatus status occurredAt } }`;

export interface Delivery {
  subscriber: number;
  customer: number;
  orderId: string;
  status: string;
  previousStatus: string | null;
  /** The status-history row's occurredAt (when placeOrder or the transition recorded it), ms since the epoch. */
  occurredAt: number;
  /** JetStream stream sequence (extensions.cursor). */
  cursor: string | null;
  /** performance.now() and wall-clock ms when the payload arrived. */
  receivedAt: number;
  receivedWall: number;
}

export interface SubscriberPool {
  /** Subscribers whose socket was acknowledged (connection_ack) and whose subscribe was sent. */
  readonly open: number;
  readonly errors: string[];
  /** Close codes of sockets the server closed, by code. */
  readonly closes: Record<string, number>;
  /** Adds `count` subscribers, round-robin over the customers starting at customer `firstCustomer`. */
  add(count: number): Promise<void>;
  dispose(): Promise<void>;
}

export function subscriberPool({
  wsUrl,
  customers,
  perCustomer,
  query = MY_ORDER_UPDATES,
  field = 'myOrderUpdates',
  onDelivery,
  connectConcurrency = 50,
}: {
  wsUrl: string;
  customers: BenchCustomer[];
  /** Subscriptions per customer (a customer's phone, laptop and tabs); the gateway allows 200 per viewer by default. */
  perCustomer: number;
  query?: string;
  field?: string;
  onDelivery: (d: Delivery) => void;
  connectConcurrency?: number;
}): SubscriberPool {
  const clients: Client[] = [];
  const disposers: (() => void)[] = [];
  const errors: string[] = [];
  const closes: Record<string, number> = {};
  let open = 0;
  let disposing = false;

  async function one(index: number) {
    const customer = Math.floor(index / perCustomer) % customers.length;
    const token = customers[customer].accessToken;
    let connectedResolve!: () => void;
    let connectedReject!: (e: Error) => void;
    const connected = new Promise<void>((res, rej) => ((connectedResolve = res), (connectedReject = rej)));
    const client = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      lazy: false,
      retryAttempts: 0,
      onNonLazyError: (e) => connectedReject(new Error(`socket failed: ${describe(e)}`)),
      on: {
        connected: () => connectedResolve(),
        closed: (e) => {
          if (disposing) return;
          const code = String((e as { code?: number })?.code ?? 'unknown');
          closes[code] = (closes[code] ?? 0) + 1;
          connectedReject(new Error(`closed ${code}`));
        },
      },
    });
    clients.push(client);
    const timeout = setTimeout(() => connectedReject(new Error('no connection_ack within 30 s')), 30_000);
    try {
      await connected;
    } finally {
      clearTimeout(timeout);
    }
    disposers.push(
      client.subscribe(
        { query },
        {
          next: (r) => {
            const at = performance.now();
            const wall = wallNow();
            if (r.errors?.length) {
              errors.push(`payload error: ${r.errors[0].message}`);
              return;
            }
            const p = (r.data as Record<string, any> | null | undefined)?.[field];
            if (!p) return;
            onDelivery({
              subscriber: index,
              customer,
              orderId: p.orderId,
              status: p.status,
              previousStatus: p.previousStatus ?? null,
              occurredAt: Date.parse(p.occurredAt),
              cursor: (r.extensions as { cursor?: string } | undefined)?.cursor ?? null,
              receivedAt: at,
              receivedWall: wall,
            });
          },
          error: (e) => {
            if (!disposing) errors.push(`subscription error: ${describe(e)}`);
          },
          complete: () => {},
        },
      ),
    );
    open++;
  }

  return {
    get open() {
      return open;
    },
    errors,
    closes,
    async add(count) {
      const start = clients.length;
      let next = start;
      const end = start + count;
      const worker = async () => {
        while (next < end) {
          const i = next++;
          await one(i).catch((e: Error) => errors.push(`subscriber ${i}: ${e.message}`));
        }
      };
      await Promise.all(Array.from({ length: Math.min(connectConcurrency, count) }, worker));
    },
    async dispose() {
      disposing = true;
      for (const d of disposers) d();
      await Promise.all(clients.map((c) => c.dispose()));
    },
  };
}

function describe(e: unknown): string {
  if (Array.isArray(e)) return e.map((x) => (x as Error).message).join('; ');
  if (e && typeof e === 'object' && 'code' in e)
    return `close ${(e as { code: number; reason?: string }).code} ${(e as { reason?: string }).reason ?? ''}`.trim();
  return (e as Error)?.message ?? String(e);
}
