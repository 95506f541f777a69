import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';

export interface SunkMail {
  to: string[];
  from: string;
  raw: string;
  /** Header value, e.g. header('subject'). */
  header(name: string): string | undefined;
}

function parseHeader(raw: string, name: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/, 1)[0].replace(/\r?\n[ \t]+/g, ' ');
  const m = head.match(new RegExp(`^${name}:\\s*(.*)$`, 'im'));
  return m?.[1].trim();
}

/**
 * A local SMTP server that accepts every message and keeps it: in memory, and
 * as `.eml` files under `dir` when given. The development default for
 * customer emails (`npm start`), and the real SMTP peer of the tests.
 */
export async function startMailSink({
  port = 0,
  dir,
  host = '127.0.0.1',
}: { port?: number; dir?: string; host?: string } = {}) {
  if (dir) mkdirSync(dir, { recursive: true });
  const messages: SunkMail[] = [];
  let refusing = false;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(_address, _session, cb) {
      if (refusing) return cb(Object.assign(new Error('Service unavailable'), { responseCode: 421 }));
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const mail: SunkMail = {
          to: session.envelope.rcptTo.map((r) => r.address),
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          raw,
          header: (name) => parseHeader(raw, name),
        };
        messages.push(mail);
        if (dir) writeFileSync(join(dir, `${Date.now()}-${messages.length}.eml`), raw);
        cb();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // A sender that dies mid-message (a killed service's pooled connection)
  // resets its socket; smtp-server reports that as an 'error' on the server,
  // which would otherwise crash the process that hosts the sink.
  server.on('error', () => {});
  const actual = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://${host}:${actual}`,
    port: actual,
    dir,
    messages,
    /** Simulate an outage: refuse recipients with 421 until set back. */
    setRefusing(value: boolean) {
      refusing = value;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
export type MailSink = Awaited<ReturnType<typeof startMailSink>>;
