// A round-robin HTTP load balancer in front of the replicas of one subgraph,
// for the tests that run two or more replicas of every subgraph
// (startSystem({ replicas }), startCluster({ replicas })).
//
// Why a balancer, not a list of URLs in the gateway: the gateway is not the
// only client of a subgraph. Orders calls products' reservation API, the
// gateway's OAuth routes and token checks call auth, and in production each of
// them reaches "the products service" through one address that a load
// balancer (a Kubernetes Service, nginx, an ALB) spreads over the replicas.
// One balancer per subgraph, started by the harness, gives every caller that
// same single URL (AUTH_URL, PRODUCTS_URL, ...) with no code of ours taught
// about replicas. It balances per request, not per TCP connection: the
// callers keep their connections alive, and per-connection balancing would
// pin a quiet test to one replica.
//
// The proxying itself is http-proxy-3 (the maintained rewrite of http-proxy);
// what is ours is the choice of replica, done the way nginx's upstream does
// by default:
// - round robin over the replicas not marked down;
// - a replica that refuses the connection (killed, restarting) is marked down
//   for `downMs` and the request goes to the next one. Only a refused
//   connection is retried: the request never left, so a mutation cannot be
//   sent twice. Anything else (reset mid-answer, a timeout) is answered 502
//   and the caller decides, as with one replica.
import { Agent, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { createProxyServer } from 'http-proxy-3';

export interface Balancer {
  /** Where callers send their requests: `http://127.0.0.1:<port>`. */
  url: string;
  /** Requests each replica answered (by index in `targets`), for a test to see that every replica served. */
  served: number[];
  stop(): Promise<void>;
}

/** Connection errors that prove the request was never sent. */
const NOT_SENT = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH']);

export async function startBalancer({
  targets,
  port = 0,
  downMs = 1_000,
}: {
  /** Each replica's base URL, `http://127.0.0.1:<port>`. */
  targets: string[];
  /** The port to listen on (127.0.0.1). Default: a free one. */
  port?: number;
  /** How long a replica that refused a connection is skipped. Default 1 s (nginx's fail_timeout is 10 s). */
  downMs?: number;
}): Promise<Balancer> {
  // Keep-alive to the replicas, as the callers keep theirs to us.
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const proxy = createProxyServer({ agent });
  const served = targets.map(() => 0);
  const downUntil = targets.map(() => 0);
  let next = 0;

  /** The next replica in turn that is not marked down, skipping those in `tried`; null when none is left. */
  function pick(tried: Set<number>): number | null {
    const now = Date.now();
    const order = targets.map((_, k) => (next + k) % targets.length).filter((i) => !tried.has(i));
    const chosen = order.find((i) => downUntil[i] <= now) ?? order[0];
    if (chosen === undefined) return null;
    next = (chosen + 1) % targets.length;
    return chosen;
  }

  /** Sends the request to the next replica in turn; `took.by` is the one that answers it (-1: none). */
  function forward(req: IncomingMessage, res: ServerResponse, body: Buffer, tried: Set<number>, took: { by: number }) {
    const i = pick(tried);
    if (i === null) {
      took.by = -1;
      return fail(res);
    }
    tried.add(i);
    took.by = i;
    proxy.web(req, res, { target: targets[i], buffer: Readable.from([body]) }, (err) => {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (NOT_SENT.has(code)) {
        downUntil[i] = Date.now() + downMs;
        return forward(req, res, body, tried, took);
      }
      took.by = -1;
      fail(res);
    });
  }

  function fail(res: ServerResponse) {
    if (res.headersSent) return void res.destroy();
    res.writeHead(502, { 'content-type': 'application/json' }).end('{"error":"no replica answered"}');
  }

  const server = createServer((req, res) => {
    // The body is read whole first, so that it can be sent again to another replica (requests to subgraphs are small).
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    const took = { by: -1 };
    res.once('finish', () => {
      if (took.by >= 0) served[took.by]++;
    });
    req.on('end', () => forward(req, res, Buffer.concat(chunks), new Set(), took));
    req.on('error', () => res.destroy());
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    served,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
      proxy.close();
    },
  };
}
