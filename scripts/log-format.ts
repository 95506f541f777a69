// How `npm start` shows the output of the processes it runs. Every service
// logs pino JSON; at a terminal that is one coloured line per event
// (pino-pretty), anywhere else the JSON itself, so a log shipper or `jq` can
// read every line of the stream.
import { prettyFactory } from 'pino-pretty';

export type LogFormat = 'pretty' | 'json';

/**
 * `LOG_FORMAT=json` or `pretty` when set; otherwise pretty at a terminal and
 * JSON when the output is a pipe or a file. Anything else is an error: a typo
 * must not silently pick one.
 */
export function chooseLogFormat(env: NodeJS.ProcessEnv, isTTY: boolean): LogFormat {
  const asked = env.LOG_FORMAT?.trim().toLowerCase();
  if (!asked) return isTTY ? 'pretty' : 'json';
  if (asked === 'json' || asked === 'pretty') return asked;
  throw new Error(`LOG_FORMAT must be json or pretty, got "${env.LOG_FORMAT}"`);
}

/** Colour of each component's name, so the eye can follow one service. */
const NAME_COLOURS: Record<string, number> = {
  gateway: 35,
  auth: 33,
  products: 32,
  orders: 36,
  shipments: 34,
  start: 1,
};

/** Fields every service line has, which the name column already shows (or nobody reads at a terminal). */
const HIDDEN_FIELDS = 'pid,hostname,service,name';

/**
 * An error logged as `{ err }` becomes "Type: message": a stack would spread
 * one event over dozens of lines. LOG_FORMAT=json keeps the whole error.
 */
function withShortErrors(record: Record<string, unknown>): Record<string, unknown> {
  const out = { ...record };
  for (const key of ['err', 'error']) {
    const e = out[key] as { type?: unknown; message?: unknown } | undefined;
    if (e && typeof e === 'object' && typeof e.message === 'string')
      out[key] = typeof e.type === 'string' && e.type !== 'Error' ? `${e.type}: ${e.message}` : e.message;
  }
  return out;
}

export interface LinePrinter {
  /** One line of output of a component (a service's pino JSON, or plain text of a server or of start itself). */
  line(name: string, text: string): void;
  /** The "orderflow is running" box: on stdout when pretty, on stderr when stdout carries JSON. */
  banner(text: string): void;
}

/**
 * @param options.width Width of the name column. Default 9 ("shipments").
 * @param options.color ANSI colours (pretty only). Default: when the output is a terminal that has them.
 */
export function createLinePrinter({
  format,
  width = 'shipments'.length,
  color = false,
  out = process.stdout,
  err = process.stderr,
}: {
  format: LogFormat;
  width?: number;
  color?: boolean;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
}): LinePrinter {
  const prettify = prettyFactory({
    colorize: color,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: HIDDEN_FIELDS,
    // Errors are made short strings above; no key gets pino-pretty's multi-line error layout.
    errorLikeObjectKeys: [],
  });
  const paint = (code: number | undefined, text: string) => (color && code ? `\x1b[${code}m${text}\x1b[0m` : text);
  const parse = (text: string): Record<string, unknown> | null => {
    if (!text.startsWith('{')) return null;
    try {
      const value: unknown = JSON.parse(text);
      return value && typeof value === 'object' && 'level' in value ? (value as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  };

  if (format === 'json') {
    return {
      line(name, text) {
        // A service's own pino line stays as it is; anything else becomes one, named after its component.
        const json = parse(text) ? text : JSON.stringify({ level: 30, time: Date.now(), service: name, msg: text });
        out.write(`${json}\n`);
      },
      banner: (text) => void err.write(text),
    };
  }
  return {
    line(name, text) {
      const label = paint(NAME_COLOURS[name], name.padEnd(width));
      const record = parse(text);
      // pino-pretty: "12:01:02 INFO: gateway listening {"port":4000}"; plain text keeps its own shape.
      const body = record ? prettify(withShortErrors(record)).trimEnd() : text;
      out.write(`${label} ${body}\n`);
    },
    banner: (text) => void out.write(text),
  };
}

/**
 * The printer of `npm start`: format from LOG_FORMAT and whether stdout is a
 * terminal, colours when that terminal has them. A bad LOG_FORMAT stops the
 * start with one line saying what to write.
 */
export function createStartPrinter(width: number): LinePrinter {
  let format: LogFormat;
  try {
    format = chooseLogFormat(process.env, process.stdout.isTTY === true);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  const color = format === 'pretty' && process.stdout.isTTY === true && process.stdout.hasColors();
  return createLinePrinter({ format, width, color });
}
