import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { startHeartbeat } from './heartbeat.ts';

describe('the heartbeat', () => {
  let wss: WebSocketServer | undefined;
  afterEach(async () => {
    for (const ws of wss?.clients ?? []) ws.terminate();
    await new Promise((r) => wss?.close(r));
  });

  it('keeps sockets that answer pings and ends one that stopped answering, from one timer', async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss!.once('listening', r));
    const heartbeat = startHeartbeat(wss, { intervalMs: 300, slice: 1 });
    const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    const open = (autoPong: boolean) =>
      new Promise<{ ws: WebSocket; closed: Promise<number> }>((resolve) => {
        const ws = new WebSocket(url, { autoPong });
        const closed = new Promise<number>((r) => ws.once('close', r));
        ws.once('open', () => resolve({ ws, closed }));
      });
    const alive = await open(true);
    const silent = await open(false); // a peer gone without a close: it never answers
    expect(await silent.closed).toBe(1006);
    await new Promise((r) => setTimeout(r, 1_000)); // three more rounds
    expect(alive.ws.readyState).toBe(WebSocket.OPEN);
    heartbeat.stop();
    alive.ws.close();
  });
});
