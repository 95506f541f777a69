import type { Logger } from './logger.ts';

/**
 * Runs a service's main: starts it, and on SIGINT/SIGTERM stops it once and
 * exits. A start-up failure is logged once and exits non-zero.
 */
export function runService(log: Logger, start: () => Promise<{ stop(): Promise<void> }>): void {
  start()
    .then((svc) => {
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'shutting down');
        const force = setTimeout(() => process.exit(1), 10_000);
        force.unref();
        svc
          .stop()
          .then(() => process.exit(0))
          .catch((err) => {
            log.error({ err }, 'shutdown failed');
            process.exit(1);
          });
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    })
    .catch((err) => {
      log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'failed to start');
      process.exit(1);
    });
}
