import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMailSink, type MailSink } from './mail-sink.js';

/** A raw SMTP client: sends one command at a time and waits for the reply's final line. */
async function smtpSession(port: number) {
  const socket: Socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  let buffered = '';
  const waiters: ((line: string) => void)[] = [];
  socket.on('data', (chunk) => {
    buffered += chunk.toString('utf8');
    let i: number;
    while ((i = buffered.indexOf('\r\n')) >= 0) {
      const line = buffered.slice(0, i);
      buffered = buffered.slice(i + 2);
      if (/^\d{3} /.test(line)) waiters.shift()?.(line);
    }
  });
  const reply = () => new Promise<string>((resolve) => waiters.push(resolve));
  const greeting = reply();
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  await greeting;
  return {
    socket,
    async send(line: string) {
      const r = reply();
      socket.write(`${line}\r\n`);
      return r;
    },
  };
}

describe('mail sink', () => {
  let sink: MailSink;
  const uncaught: unknown[] = [];
  const record = (err: unknown) => uncaught.push(err);

  beforeAll(async () => {
    process.on('uncaughtException', record);
    sink = await startMailSink();
  });
  afterAll(async () => {
    process.off('uncaughtException', record);
    await sink?.stop();
  });

  it('survives senders that reset their connection mid-message, and keeps accepting mail', async () => {
    for (let i = 0; i < 3; i++) {
      const s = await smtpSession(sink.port);
      await s.send('EHLO killed.example');
      await s.send('MAIL FROM:<shop@example.com>');
      await s.send('RCPT TO:<buyer@example.com>');
      expect(await s.send('DATA')).toMatch(/^354 /);
      s.socket.write('Subject: half\r\n\r\nhalf a mess');
      await new Promise((r) => setTimeout(r, 50)); // the sink is reading the message
      s.socket.resetAndDestroy(); // what the kernel does for a process killed with kill -9
      await new Promise((r) => setTimeout(r, 50));
    }

    const s = await smtpSession(sink.port);
    await s.send('EHLO alive.example');
    await s.send('MAIL FROM:<shop@example.com>');
    await s.send('RCPT TO:<buyer@example.com>');
    await s.send('DATA');
    expect(await s.send('Subject: whole\r\n\r\nall of it\r\n.')).toMatch(/^250 /);
    await s.send('QUIT');

    expect(uncaught).toEqual([]);
    expect(sink.messages.map((m) => m.header('subject'))).toEqual(['whole']);
  });
});
