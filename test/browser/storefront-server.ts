import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/**
 * Builds the web app (`npm run build -w web`) into `outDir`, not web/dist:
 * a test run never clobbers the build that `npm start` may be serving.
 * The app calls its own origin (no VITE_GATEWAY_URL), like the build the
 * gateway serves.
 */
export async function buildStorefront(outDir: string): Promise<void> {
  const env = { ...process.env };
  delete env.VITE_GATEWAY_URL;
  const output: string[] = [];
  const code = await new Promise<number | null>((done, fail) => {
    const child = spawn(
      'npm',
      ['run', 'build', '-w', 'web', '--', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'],
      {
        cwd: REPO_ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout.on('data', (d: Buffer) => output.push(d.toString()));
    child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
    child.on('error', fail);
    child.on('close', done);
  });
  if (code !== 0) throw new Error(`web build failed (exit ${code}):\n${output.join('')}`);
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
};

/** The gateway's routes, as the gateway serves them on its own origin. */
const PROXIED = /^\/(graphql(\/|\?|$)|oauth\/|\.well-known\/)/;

export interface StorefrontServer {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** Cuts every proxied WebSocket, as a network drop would (the browser sees 1006); returns how many. */
  dropWebSockets(): number;
  stop(): Promise<void>;
}

/**
 * Serves a built web app the way the gateway will: the static files at `/`,
 * and the gateway's own routes (/graphql over HTTP and WebSocket, /oauth/*,
 * /.well-known/*) on the same origin, proxied to `gatewayUrl`. The gateway
 * sends no CORS headers, so the app must share its origin.
 */
export async function startStorefrontServer({
  root,
  gatewayUrl,
  port = 0,
}: {
  root: string;
  gatewayUrl: string;
  port?: number;
}): Promise<StorefrontServer> {
  const upstream = new URL(gatewayUrl);
  const upstreamPort = Number(upstream.port || 80);
  const rootDir = resolve(root);
  const sockets = new Set<Socket>();
  const webSockets = new Set<Socket>();

  function proxy(req: IncomingMessage, res: ServerResponse) {
    const forwarded = request(
      {
        host: upstream.hostname,
        port: upstreamPort,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('gateway unreachable');
    });
    req.pipe(forwarded);
  }

  async function serveFile(req: IncomingMessage, res: ServerResponse) {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const candidate = normalize(join(rootDir, pathname));
    let file = candidate.startsWith(rootDir + sep) || candidate === rootDir ? candidate : join(rootDir, 'index.html');
    const info = await stat(file).catch(() => null);
    // Anything that is not a file gets the app (routes live in the hash, but a bookmarked path should still land).
    if (!info?.isFile()) file = join(rootDir, 'index.html');
    const type = CONTENT_TYPES[extname(file)] ?? 'application/octet-stream';
    res.writeHead(200, {
      'content-type': type,
      // Hashed assets never change; index.html must be fresh to name the new ones.
      'cache-control': file.endsWith('index.html') ? 'no-cache' : 'public, max-age=31536000, immutable',
    });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  }

  const server = createServer((req, res) => {
    if (PROXIED.test(req.url ?? '')) return proxy(req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' });
      return void res.end();
    }
    serveFile(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  // WebSocket upgrades (graphql-ws on /graphql): replay the handshake to the gateway, then splice the two sockets.
  server.on('upgrade', (req: IncomingMessage, client: Socket, head: Buffer) => {
    if (!PROXIED.test(req.url ?? '')) return void client.destroy();
    const gateway = connect(upstreamPort, upstream.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i];
        lines.push(`${name}: ${name.toLowerCase() === 'host' ? upstream.host : req.rawHeaders[i + 1]}`);
      }
      gateway.write(lines.join('\r\n') + '\r\n\r\n');
      if (head.length) gateway.write(head);
      gateway.pipe(client);
      client.pipe(gateway);
    });
    sockets.add(gateway);
    webSockets.add(client);
    gateway.on('close', () => sockets.delete(gateway));
    client.on('close', () => webSockets.delete(client));
    const end = () => {
      gateway.destroy();
      client.destroy();
    };
    gateway.on('error', end);
    client.on('error', end);
    client.on('close', end);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', done);
  });
  const { port: actual } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${actual}`,
    dropWebSockets() {
      const n = webSockets.size;
      for (const s of webSockets) s.destroy();
      return n;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}
