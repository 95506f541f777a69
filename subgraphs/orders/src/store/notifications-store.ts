import type { Sql } from '@orderflow/common/db';
import type { EmailKind, EmailOrder } from '../domain/emails.ts';

/**
 * The customer emails' once-only records (`notifications`, one row per email, keyed by the event that
 * asked for it), one named, typed statement each. What each status means:
 *
 * - `PENDING`: claimed, and the SMTP call may have happened (a send in progress, a send whose SENT mark
 *   has not been written yet, or a send cut short by a crash). Never sent again.
 * - `SENT`: the SMTP server accepted it.
 * - `FAILED`: the SMTP server refused it; the event is retried, and the next claim takes it again.
 * - `UNKNOWN`: a `PENDING` row found more than a minute old by a redelivery: the attempt died mid-way and
 *   the email may or may not have gone out. Never sent again.
 */

/** A PENDING row older than this belongs to an attempt that died (a send takes milliseconds). */
const STALE = `interval '1 minute'`;

const CLAIM_EMAIL = `
WITH sent AS (
  UPDATE notifications SET status = 'SENT', updated_at = now()
   WHERE event_id = ANY($5::uuid[]) AND status = 'PENDING'
), o AS (
  SELECT o.id, o.total_cents, o.currency_code, o.ship_name, o.customer_email,
         coalesce((SELECT json_agg(json_build_object('productId', i.product_id, 'productName', i.product_name,
                                                     'quantity', i.quantity, 'unitPriceCents', i.unit_price_cents)
                                   ORDER BY i.position)
                     FROM order_items i WHERE i.order_id = o.id), '[]') AS items
    FROM orders o WHERE o.id = $2::uuid
), previous AS (
  SELECT $4::text IS NULL OR EXISTS (
           SELECT 1 FROM notifications p
            WHERE p.order_id = $2::uuid AND p.kind = $4::text
              AND (p.status IN ('SENT', 'UNKNOWN') OR p.event_id = ANY($5::uuid[])
                   OR (p.status = 'PENDING' AND p.updated_at < now() - ${STALE}))) AS settled
), claim AS (
  INSERT INTO notifications AS n (event_id, order_id, kind, recipient, status)
  SELECT $1::uuid, o.id, $3::text, o.customer_email, 'PENDING' FROM o, previous
   WHERE o.customer_email IS NOT NULL AND previous.settled
  ON CONFLICT (event_id) DO UPDATE
     SET status = (CASE n.status WHEN 'FAILED' THEN 'PENDING' ELSE 'UNKNOWN' END)::notification_status,
         attempts = n.attempts + (CASE n.status WHEN 'FAILED' THEN 1 ELSE 0 END),
         updated_at = now()
   WHERE n.status = 'FAILED' OR (n.status = 'PENDING' AND n.updated_at < now() - ${STALE})
  RETURNING n.status
)
SELECT o.id, o.total_cents AS "totalCents", o.currency_code AS "currencyCode", o.ship_name AS "shipName",
       o.customer_email AS "customerEmail", o.items, previous.settled AS "previousSettled",
       coalesce((SELECT status = 'PENDING' FROM claim), false) AS claimed
  FROM o, previous`;

/** What a claim found: the order as the email shows it, and whether this attempt may send. */
export interface EmailClaim {
  order: EmailOrder;
  /** Where the email goes; null when the customer has none (nothing is claimed then). */
  customerEmail: string | null;
  /** Whether the email this one must follow (`after`) is settled: SENT, UNKNOWN, or sent and being marked. */
  previousSettled: boolean;
  /**
   * Whether this attempt holds the email's row (new, or taken back from FAILED) and may send it. False
   * when another attempt holds it or sent it (PENDING, SENT, UNKNOWN), or when nothing was claimed
   * because of the two fields above.
   */
  claimed: boolean;
}

/**
 * Claims the email asked for by `eventId` and reads what it shows, in ONE statement (atomic, no
 * BEGIN/COMMIT): the row is inserted as PENDING, or taken back from FAILED, only if the order is
 * visible, has an address, and the email `after` (the previous stage's, decided by
 * `domain/emails.ts`) is settled; a PENDING row left by an attempt that died is recorded UNKNOWN.
 * The same statement marks SENT the emails in `markSent` (sent by this process since its last
 * statement; see `createSentMarks`), which also count as settled for `after`. Returns null when the
 * order is not visible (yet).
 */
export async function claimEmail(
  sql: Sql,
  {
    eventId,
    orderId,
    kind,
    after,
    markSent,
  }: { eventId: string; orderId: string; kind: EmailKind; after: EmailKind | null; markSent: string[] },
): Promise<EmailClaim | null> {
  const {
    rows: [row],
  } = await sql.query<EmailOrder & { customerEmail: string | null; previousSettled: boolean; claimed: boolean }>(
    CLAIM_EMAIL,
    [eventId, orderId, kind, after, markSent],
  );
  if (!row) return null;
  const { customerEmail, previousSettled, claimed, ...order } = row;
  return { order, customerEmail, previousSettled, claimed };
}

/** Records emails the SMTP server accepted: one statement for any number of them. */
export async function markEmailsSent(sql: Sql, eventIds: string[]): Promise<void> {
  await sql.query(
    `UPDATE notifications SET status = 'SENT', updated_at = now() WHERE event_id = ANY($1::uuid[]) AND status = 'PENDING'`,
    [eventIds],
  );
}

/** Records a send the SMTP server refused, so that the event's retry may claim it again. */
export async function markEmailFailed(sql: Sql, eventId: string, error: string): Promise<void> {
  await sql.query(
    `UPDATE notifications SET status = 'FAILED', last_error = $2, updated_at = now() WHERE event_id = $1::uuid AND status = 'PENDING'`,
    [eventId, error],
  );
}
