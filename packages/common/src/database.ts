/** `@orderflow/common/db`: the Prisma client factory, plain SQL on its pool, transactions and migrations. */
// Not withTransaction: service code opens a plain-SQL transaction with `publishingTransaction`
// (@orderflow/common/messaging), the relay's claim is the only other one (docs/data-access.md).
export { TRANSACTION_LIMITS, createPrismaClient, modelRow, sqlPool, type Sql } from './db.ts';
export * from './migrate.ts';
