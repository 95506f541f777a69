export * from './nats.ts';
export * from './postgres.ts';
export * from './process.ts';
