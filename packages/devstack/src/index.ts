export * from './nats.ts';
export * from './nats-cluster.ts';
export * from './postgres.ts';
export * from './process.ts';
export * from './mail-sink.ts';
export * from './postgres-roles.ts';
