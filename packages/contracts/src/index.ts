/**
 * @orderflow/contracts: what the services and their clients agree on, with no I/O. Domain code imports
 * only this package; mechanisms (database, bus, servers) live in @orderflow/common.
 */
export * from './errors.ts';
export * from './events.ts';
export * from './reservation.ts';
export * from './scopes.ts';
export * from './subgraphs.ts';
export * from './validation.ts';
export * from './money.ts';
