import nodemailer from 'nodemailer';
import { EventSchemas, RetryLater, backoffMs, type EventEnvelope, type EventHandler, type Logger } from '@orderflow/common';
import type { Db, Tx } from '../db.ts';
import { EMAIL_FOR_STATUS, renderEmail, type EmailKind } from '../domain/emails.ts';

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
  async function claim(eventId: string, orderId: string, kind: EmailKind, recipient: string): Promise<boolean> {
    const inserted = await db.notification.createMany({ data: [{ eventId, orderId, kind, recipient, status: 'PENDING' }], skipDuplicates: true });
    if (inserted.count === 1) return true;
    const retried = await db.notification.updateMany({ where: { eventId, status: 'FAILED' }, data: { status: 'PENDING', attempts: { increment: 1 } } });
    if (retried.count === 1) return true;
    // PENDING from an attempt that died mid-send: it may have gone out. Never risk a second copy.
    await db.notification.updateMany({ where: { eventId, status: 'PENDING', updatedAt: { lt: new Date(Date.now() - 60_000) } }, data: { status: 'UNKNOWN' } });
    return false;
  }

  /** `tx` is the plain client: the email consumers run outside the inbox transaction (see EventHandler.outsideTransaction). */
  return async function send(event: EventEnvelope, kind: EmailKind, tx: Tx, attempt: number, detail: string | null) {
    const orderId = event.correlationId;
    const order = await tx.order.findUnique({ where: { id: orderId }, include: { items: { orderBy: { position: 'asc' } } } });
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
      await db.notification.update({ where: { eventId: event.id }, data: { status: 'FAILED', lastError: (err as Error).message.slice(0, 500) } });
      throw new RetryLater(backoffMs(attempt, 500, 60_000), `SMTP send failed: ${(err as Error).message}`);
    }
    await db.notification.update({ where: { eventId: event.id }, data: { status: 'SENT' } });
    log.info({ orderId, kind }, 'email sent');
  };
}

/** The two consumers that email customers: order received, and every customer-visible status. */
export function notificationHandlers(deps: { db: Db; mailer: Mailer; log: Logger }) {
  const send = createSender(deps);
  const received: EventHandler<(typeof EventSchemas)['orders.created']['_output'], Tx> = {
    name: 'email-order-received',
    type: 'orders.created',
    schema: EventSchemas['orders.created'],
    // The notification row is the once-only record; no transaction is held across the claim and the SMTP call.
    outsideTransaction: true,
    handle: (event, { tx, attempt }) => send(event, 'order-received', tx, attempt, null),
  };
  const statusChanged: EventHandler<(typeof EventSchemas)['orders.status_changed']['_output'], Tx> = {
    name: 'email-status-changed',
    type: 'orders.status_changed',
    schema: EventSchemas['orders.status_changed'],
    outsideTransaction: true,
    relevant: (event) => !!EMAIL_FOR_STATUS[event.data.status],
    async handle(event, { tx, attempt }) {
      const kind = EMAIL_FOR_STATUS[event.data.status];
      if (kind) await send(event, kind, tx, attempt, event.data.reason);
    },
  };
  return { received, statusChanged };
}
