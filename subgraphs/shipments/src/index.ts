import { startTracing } from '@orderflow/common/tracing';

// OpenTelemetry (when OTEL_EXPORTER_OTLP_ENDPOINT is set) must start before the modules it instruments load.
await startTracing('shipments', process.env);
const { createLogger } = await import('@orderflow/common/observability');
const { runService } = await import('@orderflow/common/server');
const { startShipments } = await import('./app.ts');
const { loadConfig } = await import('./config.ts');

const config = loadConfig(process.env);
const log = createLogger('shipments', config.LOG_LEVEL);
runService(log, () => startShipments(config, { log }));
