/** `@orderflow/common/db`: the Prisma client factory, plain SQL on its pool, transactions and migrations. */
export * from './db.ts';
export * from './migrate.ts';
