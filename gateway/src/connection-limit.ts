import type { IncomingMessage, Server } from 'node:http';
import { isIPv4, isIPv6, type Socket } from 'node:net';
import { ErrorCode } from '@orderflow/contracts';

/**
 * The key a connection is counted under: the IPv4 address (also when it
 * arrives IPv4-mapped, `::ffff:a.b.c.d`), or the /64 of an IPv6 address —
 * one host commonly holds a whole /64, so counting single IPv6 addresses
 * would cap nothing.
 */
export function addressKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  if (isIPv4(address) || !isIPv6(address)) return address;
  const [head, tail = ''] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = address.includes('::') && tail ? tail.split(':') : [];
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

export interface ConnectionLimitOptions {
  /** Open HTTP connections per client address (addressKey); 0 turns the cap off. */
  maxPerAddress: number;
  /** Seconds a refused client is told to wait (Retry-After). Default 1. */
  retryAfterSeconds?: number;
  /** Called for each refused connection (metrics). */
  onRefused?: () => void;
}

/**
 * Caps the HTTP connections one client address holds open at once. Past the
 * cap a new connection is answered at once — before its request is read —
 * with HTTP 429, `Retry-After`, `Connection: close` and a GraphQL-shaped
 * RATE_LIMITED error, and closed; requests that still arrive on it never
 * reach the app. A client thus cannot hold hundreds of sockets (each with a
 * body buffer until BODY_TIMEOUT_MS) while other addresses are unaffected.
 * Upgraded connections (WebSockets) leave the count: the subscription server
 * caps those per address itself (WS_MAX_CONNECTIONS_PER_ADDRESS).
 */
export function createConnectionLimit({
  maxPerAddress,
  retryAfterSeconds = 1,
  onRefused = () => {},
}: ConnectionLimitOptions) {
  const open = new Map<string, number>();
  /** Connections answered 429: whatever they send is ignored. */
  const refused = new WeakSet<Socket>();
  /** Connections counted and not yet released. */
  const counted = new WeakMap<Socket, string>();
  const body = JSON.stringify({
    errors: [
      {
        message: `Too many connections from your address; at most ${maxPerAddress} at once`,
        extensions: { code: ErrorCode.RATE_LIMITED, retryAfter: retryAfterSeconds },
      },
    ],
  });
  const answer =
    'HTTP/1.1 429 Too Many Requests\r\n' +
    'Content-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    `Retry-After: ${retryAfterSeconds}\r\n` +
    'Connection: close\r\n\r\n' +
    body;

  const release = (socket: Socket) => {
    const key = counted.get(socket);
    if (key === undefined) return;
    counted.delete(socket);
    const n = (open.get(key) ?? 1) - 1;
    if (n > 0) open.set(key, n);
    else open.delete(key);
  };

  const onConnection = (socket: Socket) => {
    const key = addressKey(socket.remoteAddress);
    const n = open.get(key) ?? 0;
    if (n >= maxPerAddress) {
      onRefused();
      refused.add(socket);
      socket.on('error', () => {});
      // FIN after the answer; a client that keeps the socket open is cut a second later.
      socket.end(answer);
      setTimeout(() => socket.destroy(), 1_000).unref();
      return;
    }
    open.set(key, n + 1);
    counted.set(socket, key);
    socket.once('close', () => release(socket));
  };

  return {
    /** Counts the server's connections (a no-op when the cap is off). */
    attach(server: Server) {
      if (maxPerAddress <= 0) return;
      // Before node:http's own listener, so a refused socket's answer goes out first.
      server.prependListener('connection', onConnection);
      server.prependListener('upgrade', (req: IncomingMessage) => {
        if (refused.has(req.socket)) req.socket.destroy();
        else release(req.socket);
      });
    },
    /** Whether `req` came on a refused connection (already answered: the app must not run). */
    isRefused: (req: IncomingMessage) => refused.has(req.socket),
    /** Open HTTP connections of one address (tests, metrics). */
    openFrom: (address: string) => open.get(addressKey(address)) ?? 0,
  };
}
export type ConnectionLimit = ReturnType<typeof createConnectionLimit>;
