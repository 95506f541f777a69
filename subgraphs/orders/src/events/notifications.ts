import nodemailer from 'nodemailer';
import { sqlPool } from '@orderflow/common/db';
import { RetryLater, backoffMs, type EventHandler } from '@orderflow/common/messaging';
import { type Logger } from '@orderflow/common/observability';
import { EventSchemas, type EventEnvelope } from '@orderflow/contracts';
import type { Db } from '../db.ts';
import { EMAIL_FOR_STATUS, renderEmail, type EmailKind, type EmailOrder } from '../domain/emails.ts';

export interface Mailer {
  send(mail: { to: string; subject: string; text: string; html: string; messageId: string }): Promise<void>;
  close(): void;
}

export interface MailerOptions {
  /** Like smtp://user:pass@host:587. */
  smtpUrl: string;
  from: string;
  /**
   * Open SMTP connections kept and reused for later emails. Default 5: the two
   * email consumers run up to 8 sends at once and a send takes milliseconds, so
   * a few wait briefly rather than each replica opening more connections than
   * providers usually allow a client.
   */
  maxConnections?: number;
}

/**
 * SMTP through nodemailer's pooled transport: connections are reused across
 * emails instead of one connection (and TLS handshake and log-in) per email.
 * `close()` once the email consumers have stopped: it lets a send in progress
 * finish and refuses later ones.
 */
export function createMailer({ smtpUrl, from, maxConnections = 5 }: MailerOptions): Mailer {
  // The pool re-sends a message on another connection only when none of it was
  // sent (a reused connection the server had dropped), so no email goes out twice.
  const transport = nodemailer.createTransport({ url: smtpUrl, pool: true, maxConnections });
  return {
    async send({ to, subject, text, html, messageId }) {
      await transport.sendMail({ from, to, subject, text, html, messageId });
    },
    close: () => transport.close(),
  };
}

/**
 * Sends each customer email at most once and retries until it is sent. The
 * row is claimed (PENDING) and committed before the SMTP call, so a crash
 * mid-send leaves a PENDING row that is never sent again (UNKNOWN) rather
 * than a second copy; a refused send becomes FAILED and is retried with
 * backoff. The Message-ID is derived from the event id, so a receiving
 * server can also recognise a copy.
 */
function createSender({ db, mailer, log }: { db: Db; mailer: Mailer; log: Logger }) {
  // Twice per order or more: plain SQL on the pool, not Prisma (see sqlTransaction).
  const sql = sqlPool(db);

  async function claim(eventId: string, orderId: string, kind: EmailKind, recipient: string): Promise<boolean> {
    const inserted = await sql.query(
      `INSERT INTO notifications (event_id, order_id, kind, recipient, status) VALUES ($1::uuid, $2::uuid, $3, $4, 'PENDING') ON CONFLICT DO NOTHING`,
      [eventId, orderId, kind, recipient],
    );
    if (inserted.rowCount === 1) return true;
    const retried = await sql.query(
      `UPDATE notifications SET status = 'PENDING', attempts = attempts + 1, updated_at = now() WHERE event_id = $1::uuid AND status = 'FAILED'`,
      [eventId],
    );
    if (retried.rowCount === 1) return true;
    // PENDING from an attempt that died mid-send: it may have gone out. Never risk a second copy.
    await sql.query(
      `UPDATE notifications SET status = 'UNKNOWN', updated_at = now() WHERE event_id = $1::uuid AND status = 'PENDING' AND updated_at < now() - interval '1 minute'`,
      [eventId],
    );
    return false;
  }

  const settle = (eventId: string, status: 'SENT' | 'FAILED', lastError: string | null = null) =>
    sql.query(
      `UPDATE notifications SET status = $2::notification_status, last_error = coalesce($3, last_error), updated_at = now() WHERE event_id = $1::uuid`,
      [eventId, status, lastError],
    );

  /** The order as an email shows it (its items in order), and where to send it. */
  async function emailOrder(orderId: string): Promise<(EmailOrder & { customerEmail: string | null }) | null> {
    const {
      rows: [row],
    } = await sql.query<EmailOrder & { customerEmail: string | null }>(
      `SELECT o.id, o.total_cents AS "totalCents", o.currency_code AS "currencyCode", o.ship_name AS "shipName", o.customer_email AS "customerEmail",
              coalesce((SELECT json_agg(json_build_object('productId', i.product_id, 'productName', i.product_name, 'quantity', i.quantity, 'unitPriceCents', i.unit_price_cents) ORDER BY i.position)
                          FROM order_items i WHERE i.order_id = o.id), '[]') AS items
         FROM orders o WHERE o.id = $1::uuid`,
      [orderId],
    );
    return row ?? null;
  }

  return async function send(event: EventEnvelope, kind: EmailKind, attempt: number, detail: string | null) {
    const orderId = event.correlationId;
    const order = await emailOrder(orderId);
    if (!order) throw new RetryLater(backoffMs(attempt), 'order not visible yet');
    if (!order.customerEmail) {
      log.debug({ orderId, kind }, 'no email address for this customer; nothing sent');
      return;
    }
    if (!(await claim(event.id, orderId, kind, order.customerEmail))) return;
    const mail = renderEmail(kind, order, detail);
    try {
      await mailer.send({ to: order.customerEmail, ...mail, messageId: `<${event.id}@orderflow.local>` });
    } catch (err) {
      await settle(event.id, 'FAILED', (err as Error).message.slice(0, 500));
      throw new RetryLater(backoffMs(attempt, 500, 60_000), `SMTP send failed: ${(err as Error).message}`);
    }
    await settle(event.id, 'SENT');
    log.info({ orderId, kind }, 'email sent');
  };
}

/** The two consumers that email customers: order received, and every customer-visible status. */
export function notificationHandlers(deps: { db: Db; mailer: Mailer; log: Logger }) {
  const send = createSender(deps);
  const received: EventHandler<(typeof EventSchemas)['orders.created']['_output'], Db> = {
    name: 'email-order-received',
    type: 'orders.created',
    schema: EventSchemas['orders.created'],
    // The notification row is the once-only record; no transaction is held across the claim and the SMTP call.
    outsideTransaction: true,
    handle: (event, { attempt }) => send(event, 'order-received', attempt, null),
  };
  const statusChanged: EventHandler<(typeof EventSchemas)['orders.status_changed']['_output'], Db> = {
    name: 'email-status-changed',
    type: 'orders.status_changed',
    schema: EventSchemas['orders.status_changed'],
    outsideTransaction: true,
    relevant: (event) => !!EMAIL_FOR_STATUS[event.data.status],
    async handle(event, { attempt }) {
      const kind = EMAIL_FOR_STATUS[event.data.status];
      if (kind) await send(event, kind, attempt, event.data.reason);
    },
  };
  return { received, statusChanged };
}
