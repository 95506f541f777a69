import { startTracing } from '@orderflow/common/tracing';

// OpenTelemetry (when OTEL_EXPORTER_OTLP_ENDPOINT is set) must start before the modules it instruments load.
await startTracing('orders', process.env);
const { createLogger } = await import('@orderflow/common/observability');
const { runService } = await import('@orderflow/common/server');
const { startOrders } = await import('./app.ts');
const { loadConfig } = await import('./config.ts');

const config = loadConfig(process.env);
const log = createLogger('orders', config.LOG_LEVEL);
runService(log, () => startOrders(config, { log }));
