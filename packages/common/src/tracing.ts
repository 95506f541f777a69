import { setTraceBridge } from './trace-context.ts';

/** Paths whose requests are not traced: probes and scrapes would drown the real traffic. */
const UNTRACED = /^\/(health\/|metrics$)/;

/**
 * Starts OpenTelemetry tracing (OTLP over HTTP; http, express, pg and fetch
 * instrumented) when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set; otherwise returns false and
 * loads nothing, so tracing costs nothing when off.
 *
 * Call it before the service imports anything it instruments: each
 * service's index.ts awaits it first and imports the service afterwards.
 * The SDK reads its other settings from the standard `OTEL_*` variables
 * (`OTEL_SERVICE_NAME`, `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_TRACES_SAMPLER`…).
 */
export async function startTracing(serviceName: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  if (!(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) || env.OTEL_SDK_DISABLED === 'true')
    return false;

  // ESM modules are instrumented through this loader hook (CommonJS ones through require).
  const { register } = await import('node:module');
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);

  const [
    api,
    { NodeSDK },
    { OTLPTraceExporter },
    { HttpInstrumentation },
    { ExpressInstrumentation },
    { PgInstrumentation },
    { UndiciInstrumentation },
  ] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-express'),
    import('@opentelemetry/instrumentation-pg'),
    import('@opentelemetry/instrumentation-undici'),
  ]);

  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME || serviceName,
    traceExporter: new OTLPTraceExporter({
      url:
        env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || `${env.OTEL_EXPORTER_OTLP_ENDPOINT!.replace(/\/+$/, '')}/v1/traces`,
    }),
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => UNTRACED.test(req.url ?? '') }),
      new ExpressInstrumentation(),
      new PgInstrumentation(),
      new UndiciInstrumentation(),
    ],
  });
  sdk.start();

  // Our trace context (logs, events) follows OpenTelemetry's spans from now on.
  const tracer = api.trace.getTracer('orderflow');
  setTraceBridge({
    active() {
      const c = api.trace.getActiveSpan()?.spanContext();
      if (!c || !api.isSpanContextValid(c)) return undefined;
      return `00-${c.traceId}-${c.spanId}-${c.traceFlags & api.TraceFlags.SAMPLED ? '01' : '00'}`;
    },
    inSpan(name, parent, fn) {
      const parentContext = parent
        ? api.propagation.extract(api.ROOT_CONTEXT, { traceparent: parent })
        : api.ROOT_CONTEXT;
      return tracer.startActiveSpan(name, { kind: api.SpanKind.CONSUMER }, parentContext, async (span) => {
        try {
          return await fn();
        } catch (err) {
          span.recordException(err as Error);
          span.setStatus({ code: api.SpanStatusCode.ERROR });
          throw err;
        } finally {
          span.end();
        }
      });
    },
  });

  // Best effort: export what is buffered while the service shuts down.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void sdk.shutdown().catch(() => {}));
  return true;
}
