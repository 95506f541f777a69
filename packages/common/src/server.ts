/**
 * `@orderflow/common/server`: what a service's HTTP and GraphQL side needs — the subgraph server and its
 * start-up kit, config and secrets checks, internal auth and access tokens, schema-driven authorization,
 * the viewer, error masking and the internal HTTP client. The reservation's timing rules are contracts
 * (`@orderflow/contracts`: RESERVE_CALL_POLICY, reservationEnvSchema, checkReservationTiming).
 */
export * from './access-token.ts';
export * from './authorization.ts';
export * from './config.ts';
export * from './errors.ts';
export * from './http-request.ts';
export * from './internal-auth.ts';
export * from './secrets.ts';
export * from './service-runtime.ts';
export * from './subgraph-kit.ts';
export * from './subgraph-server.ts';
export * from './viewer.ts';
export * from './credential-fields.ts';
