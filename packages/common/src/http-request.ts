import http from 'node:http';

/**
 * A keep-alive agent for calls between our own processes. Idle connections
 * are closed after 30 s, well before our servers' 65 s keep-alive timeout
 * (subgraph-server.ts), so a request never goes out on a connection the
 * server is closing. Nothing is ever retried here.
 */
export function keepAliveAgent(): http.Agent {
  return new http.Agent({ keepAlive: true, timeout: 30_000, scheduling: 'lifo' });
}

export interface HttpAnswer {
  status: number;
  statusText: string;
  /** As node:http gives them: name, value, name, value… */
  rawHeaders: string[];
  body: string;
}

/**
 * One HTTP request over node:http, its whole answer read as text. Node's
 * fetch (undici) builds WHATWG streams, an AbortController and a Request per
 * call: several times the CPU, on the path of every order
 * (docs/bench/FINDINGS.md). `timeoutMs` bounds the whole exchange.
 */
export function httpRequest(
  url: string,
  {
    method = 'GET',
    headers,
    body,
    agent,
    timeoutMs,
    signal,
  }: {
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    agent: http.Agent;
    timeoutMs?: number;
    signal?: AbortSignal;
  },
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const req = http.request(url, { method, headers, agent, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          rawHeaders: res.rawHeaders,
          body: Buffer.concat(chunks).toString('utf8'),
        });
      });
    });
    if (timeoutMs !== undefined)
      timer = setTimeout(
        () => req.destroy(new Error(`no answer from ${new URL(url).pathname} within ${timeoutMs} ms`)),
        timeoutMs,
      );
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}
