import { createPrismaClient } from '@orderflow/common/db';
import { PrismaClient } from './generated/prisma/client.ts';

export { PrismaClient };
export type { DeliveryEvent, Shipment } from './generated/prisma/client.ts';
export type { ShipmentStatus } from './generated/prisma/enums.ts';
export type Db = PrismaClient;

export function createDb(url: string, opts: { poolSize?: number; onQuery?: (sql: string) => void } = {}): Db {
  return createPrismaClient(PrismaClient, { url, ...opts });
}
