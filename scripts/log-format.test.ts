import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { chooseLogFormat, createLinePrinter, type LogFormat } from './log-format.ts';

/** Starts every ANSI colour sequence. */
const ESC = '\u001b';

/** A real service log line: what createLogger writes (pino JSON with the service's base fields). */
function serviceLine(msg: string, fields: Record<string, unknown> = {}, level: 'info' | 'error' = 'info'): string {
  let out = '';
  const stream = { write: (s: string) => void (out += s) };
  pino({ name: 'orders', base: { service: 'orders', pid: 4242, hostname: 'box' } }, stream)[level](fields, msg);
  return out.trimEnd();
}

function capture(format: LogFormat, color = false) {
  const out = new PassThrough();
  const err = new PassThrough();
  const read = (s: PassThrough) => String(s.read() ?? '');
  const printer = createLinePrinter({ format, color, out, err });
  return { printer, stdout: () => read(out), stderr: () => read(err) };
}

describe('npm start output', () => {
  it('at a terminal: one short line per event, service name first, without pid or hostname', () => {
    const { printer, stdout } = capture('pretty');
    printer.line('orders', serviceLine('order placed', { orderId: 'o-1' }));
    const text = stdout();
    expect(text.split('\n').filter(Boolean)).toHaveLength(1);
    expect(text).toMatch(/^orders {4}\[\d\d:\d\d:\d\d\] INFO: order placed \{"orderId":"o-1"\}\n$/);
    expect(text).not.toMatch(/4242|box|"service"/);
  });

  it('keeps an error on one line, level shown', () => {
    const { printer, stdout } = capture('pretty');
    printer.line('auth', serviceLine('request failed', { err: new Error('boom') }, 'error'));
    const text = stdout();
    expect(text.split('\n').filter(Boolean)).toHaveLength(1);
    expect(text).toContain('ERROR: request failed {"err":"boom"}');
  });

  it('colours only when asked (a terminal that has colours)', () => {
    const coloured = capture('pretty', true);
    coloured.printer.line('gateway', serviceLine('gateway listening'));
    expect(coloured.stdout()).toContain(`${ESC}[`);
    const plain = capture('pretty', false);
    plain.printer.line('gateway', serviceLine('gateway listening'));
    expect(plain.stdout()).not.toContain(ESC);
  });

  it('shows the plain text of PostgreSQL, NATS and start itself as it is, behind the name', () => {
    const { printer, stdout } = capture('pretty');
    printer.line('nats', '[123] [INF] Server is ready');
    printer.line('start', 'stopping the gateway…');
    expect(stdout()).toBe('nats      [123] [INF] Server is ready\nstart     stopping the gateway…\n');
  });

  it('as JSON: service lines unchanged, every other line made one, the banner on stderr', () => {
    const { printer, stdout, stderr } = capture('json');
    const line = serviceLine('order placed', { orderId: 'o-1' });
    printer.line('orders', line);
    printer.line('nats', 'Server is ready');
    printer.banner('orderflow is running\n');
    const lines = stdout().trimEnd().split('\n');
    expect(lines[0]).toBe(line);
    expect(JSON.parse(lines[1])).toMatchObject({ level: 30, service: 'nats', msg: 'Server is ready' });
    expect(stderr()).toBe('orderflow is running\n');
  });

  it('picks pretty at a terminal and JSON in a pipe, LOG_FORMAT deciding when set', () => {
    expect(chooseLogFormat({}, true)).toBe('pretty');
    expect(chooseLogFormat({}, false)).toBe('json');
    expect(chooseLogFormat({ LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(chooseLogFormat({ LOG_FORMAT: 'Pretty' }, false)).toBe('pretty');
    expect(() => chooseLogFormat({ LOG_FORMAT: 'yaml' }, true)).toThrow(
      'LOG_FORMAT must be json or pretty, got "yaml"',
    );
  });
});
