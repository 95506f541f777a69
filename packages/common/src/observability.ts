/** `@orderflow/common/observability`: the logger, Prometheus metrics and the trace context. Tracing's start-up hook is `@orderflow/common/tracing`, imported first. */
export * from './logger.ts';
export * from './metrics.ts';
export * from './trace-context.ts';
