import { sqlPool } from '@orderflow/common/db';
import { type Logger } from '@orderflow/common/observability';
import type { Db, OrderStatus } from '../db.ts';

/** What the order row says about a cancel request once it is decided. */
export interface CancelVerdict {
  orderStatus: OrderStatus;
  /** CANCELLED or REFUSED once the shipments service answered; null when the order moved on otherwise. */
  verdict: 'CANCELLED' | 'REFUSED' | null;
  /** A refusal's shipment status (SHIPPED or later). */
  shipmentStatus: string | null;
}

/**
 * The decided requests among $1: answered by shipments, or whose order has left PENDING_SHIPMENT
 * (cancelled, or shipped and mirrored before the refusal arrived).
 */
const DECIDED_SQL = `
SELECT r.id::text AS id, r.verdict, r.shipment_status, o.status::text AS order_status
  FROM cancel_requests r JOIN orders o ON o.id = r.order_id
 WHERE r.id = ANY($1::uuid[]) AND (r.verdict IS NOT NULL OR o.status <> 'PENDING_SHIPMENT')`;

/**
 * Waits for the verdicts of cancel requests by reading the database, so it sees a verdict whichever
 * replica's consumer recorded it. One statement per `pollMs` covers every request waiting in this
 * process, however many: a burst of cancels costs one query per tick, not one per request.
 */
export function createCancelVerdicts({ db, log, pollMs = 25 }: { db: Db; log: Logger; pollMs?: number }) {
  const waiting = new Map<string, Set<(v: CancelVerdict) => void>>();
  let polling = false;

  async function poll() {
    if (polling) return;
    polling = true;
    try {
      while (waiting.size) {
        await new Promise((r) => setTimeout(r, pollMs));
        if (!waiting.size) break;
        let rows: { id: string; verdict: string | null; shipment_status: string | null; order_status: string }[];
        try {
          ({ rows } = await sqlPool(db).query(DECIDED_SQL, [[...waiting.keys()]]));
        } catch (err) {
          // The callers time out and answer CancellationPending; the cancel itself goes on.
          log.warn({ err: (err as Error).message }, 'reading cancel verdicts failed');
          await new Promise((r) => setTimeout(r, 10 * pollMs));
          continue;
        }
        for (const row of rows) {
          const verdict: CancelVerdict = {
            orderStatus: row.order_status as OrderStatus,
            verdict: row.verdict === 'CANCELLED' || row.verdict === 'REFUSED' ? row.verdict : null,
            shipmentStatus: row.shipment_status,
          };
          for (const resolve of waiting.get(row.id) ?? []) resolve(verdict);
          waiting.delete(row.id);
        }
      }
    } finally {
      polling = false;
    }
  }

  return {
    /** The verdict of `requestId`, or null when none came within `timeoutMs`. */
    wait(requestId: string, timeoutMs: number): Promise<CancelVerdict | null> {
      if (timeoutMs <= 0) return Promise.resolve(null);
      return new Promise((resolve) => {
        const callers = waiting.get(requestId) ?? new Set();
        const done = (v: CancelVerdict | null) => {
          clearTimeout(timer);
          callers.delete(done);
          if (!callers.size && waiting.get(requestId) === callers) waiting.delete(requestId);
          resolve(v);
        };
        const timer = setTimeout(() => done(null), timeoutMs);
        callers.add(done);
        waiting.set(requestId, callers);
        void poll();
      });
    },
    /** Requests this process is waiting on (for tests and metrics). */
    get waiting() {
      return waiting.size;
    },
  };
}
export type CancelVerdicts = ReturnType<typeof createCancelVerdicts>;
