import { startTracing } from '@orderflow/common/tracing';

// OpenTelemetry (when OTEL_EXPORTER_OTLP_ENDPOINT is set) must start before the modules it instruments load.
await startTracing('gateway', process.env);
const { createLogger } = await import('@orderflow/common/observability');
const { runService } = await import('@orderflow/common/server');
const { loadConfig } = await import('./config.ts');
const { startGateway } = await import('./server.ts');

const config = loadConfig(process.env);
const log = createLogger('gateway', config.LOG_LEVEL);
runService(log, () => startGateway(config, { log }));
