// The SMTP sink as a service of its own (docker-compose.yml's `mail`): accepts
// every message the orders service sends and keeps it as an .eml file under
// MAIL_DIR. `npm start` and the tests run the same sink in-process.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { createLogger } from '@orderflow/common/observability';
import { parseEnv } from '@orderflow/common/server';
import { startMailSink } from '@orderflow/devstack';

/** Every variable the sink reads (test/compose.test.ts checks docker-compose.yml against it). */
export const envSchema = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Interface to listen on. Default 127.0.0.1; 0.0.0.0 in a container. */
  HOST: z.string().default('127.0.0.1'),
  /** SMTP port. Default 2525, the one `npm start` uses (unprivileged). */
  SMTP_PORT: z.coerce.number().int().min(0).max(65535).default(2525),
  /** Where messages are kept, one .eml file each. Default .data/mail. */
  MAIL_DIR: z.string().min(1).default('.data/mail'),
});

async function main() {
  const config = parseEnv(envSchema, process.env);
  const log = createLogger('mail', config.LOG_LEVEL);
  const sink = await startMailSink({ host: config.HOST, port: config.SMTP_PORT, dir: resolve(config.MAIL_DIR) });
  log.info({ url: sink.url, dir: sink.dir }, 'mail sink listening');
  const stop = async (signal: string) => {
    log.info({ signal }, 'mail sink stopping');
    await sink.stop();
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop(signal));
}

// Run only as a program: the compose test imports envSchema.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main();
