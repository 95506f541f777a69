import type { WebSocket, WebSocketServer } from 'ws';

/**
 * Keep-alive for every socket of a server from one timer: each round pings
 * every open socket and ends those that did not answer the previous round's
 * ping (a peer gone without a close), as graphql-ws's own keep-alive does,
 * which instead holds an interval, a timeout and a listener per socket: a
 * few hundred bytes of each idle subscriber's heap. Rounds yield to the
 * event loop every `slice` sockets, so 5,000 sockets never block it at once.
 */
export function startHeartbeat(wss: WebSocketServer, { intervalMs = 12_000, slice = 500 } = {}) {
  /** Pinged, no pong yet. */
  const waiting = new WeakSet<WebSocket>();
  function onPong(this: WebSocket) {
    waiting.delete(this);
  }
  const onConnection = (ws: WebSocket) => ws.on('pong', onPong);
  wss.on('connection', onConnection);

  let round: Promise<void> | null = null;
  async function sweep() {
    let n = 0;
    for (const ws of wss.clients) {
      if (ws.readyState !== ws.OPEN) continue;
      if (waiting.has(ws)) {
        ws.terminate();
        continue;
      }
      waiting.add(ws);
      ws.ping();
      if (++n % slice === 0) await new Promise((r) => setImmediate(r));
    }
  }
  const timer = setInterval(() => {
    round ??= sweep().finally(() => (round = null));
  }, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      wss.off('connection', onConnection);
    },
  };
}
