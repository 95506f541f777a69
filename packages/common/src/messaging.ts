/**
 * `@orderflow/common/messaging`: NATS JetStream — the connection and streams, events and the outbox,
 * the outbox relay, event consumers, dead letters and the token-revocation bucket.
 */
export * from './consumer.ts';
export * from './dlq.ts';
export * from './events.ts';
export * from './nats.ts';
export * from './outbox.ts';
export * from './revocations.ts';
