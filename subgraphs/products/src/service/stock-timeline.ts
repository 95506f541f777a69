import DataLoader from 'dataloader';
import { isUuid } from '@orderflow/contracts';
import type { Db } from '../db.ts';

/** An entry of Order.timeline (the orders subgraph merges these with its own). */
export interface StockTimelineEntry {
  at: string;
  kind: 'STOCK';
  summary: string;
  actor: null;
  source: 'products';
}

const VERB = {
  RESERVE: 'Reserved',
  COMMIT: 'Committed (sold)',
  RELEASE: 'Released',
  RETURN: 'Returned to stock',
  RESTOCK: 'Restocked',
} as const;

/**
 * Order.stockTimeline: each order's stock movements (reserve, commit, release, return), oldest first,
 * one query for every order of a request. Internal (@inaccessible): the gateway fetches it only for
 * Order.timeline, of an order the orders subgraph let the viewer see.
 */
export function createStockTimelineLoader(db: Db) {
  return new DataLoader<string, StockTimelineEntry[]>(async (orderIds) => {
    const rows = await db.stockMovement.findMany({
      where: { orderId: { in: orderIds.filter(isUuid) } },
      orderBy: { id: 'asc' },
      include: { product: { select: { name: true } } },
    });
    const byOrder = new Map<string, StockTimelineEntry[]>();
    for (const m of rows) {
      const units = Math.abs(m.quantity);
      const entry: StockTimelineEntry = {
        at: m.occurredAt.toISOString(),
        kind: 'STOCK',
        summary: `${VERB[m.type]} ${units} × ${m.product.name}${m.reason ? ` (${m.reason})` : ''}`,
        actor: null,
        source: 'products',
      };
      byOrder.set(m.orderId!, [...(byOrder.get(m.orderId!) ?? []), entry]);
    }
    return orderIds.map((id) => byOrder.get(id) ?? []);
  });
}
