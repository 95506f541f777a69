import { createPrismaClient } from '@orderflow/common/db';
import { PrismaClient } from './generated/prisma/client.ts';

export { PrismaClient };
export type { OAuthClient, RefreshToken, SigningKey, User } from './generated/prisma/client.ts';
export type Db = PrismaClient;

export function createDb(url: string, opts: { poolSize?: number; onQuery?: (sql: string) => void } = {}): Db {
  return createPrismaClient(PrismaClient, { url, ...opts });
}
