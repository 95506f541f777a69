import { ConstantBackoff, handleAll, retry } from 'cockatiel';
import nodemailer from 'nodemailer';
import { sqlPool, type Sql } from '@orderflow/common/db';
import { RetryLater, backoffMs, type EventHandler } from '@orderflow/common/messaging';
import { type Logger } from '@orderflow/common/observability';
import { EventSchemas, type EventEnvelope } from '@orderflow/contracts';
import type { Db } from '../db.ts';
import { EMAIL_AFTER, EMAIL_FOR_STATUS, renderEmail, type EmailKind } from '../domain/emails.ts';
import { claimEmail, markEmailFailed, markEmailsSent } from '../store/notifications-store.ts';

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

/** How long a SENT mark that fails (the database restarting) is tried again before its email gives up waiting. */
const MARK_RETRY_MS = 10_000;

/**
 * SENT marks shared by the emails of one process: a sent email's mark rides on the next claim statement
 * this process sends (`take`), or, when none comes within `delayMs`, goes alone in one `UPDATE` for every
 * email waiting (`markEmailsSent`). Each email's `add` resolves once its row says SENT, so its event is
 * acknowledged after the mark, as before. A mark that fails is tried again each second for
 * `MARK_RETRY_MS`, then rejects (the row stays PENDING: never sent again).
 */
function createSentMarks(sql: Sql, delayMs: number, log: Logger) {
  interface Waiting {
    since: number;
    resolve: () => void;
    reject: (err: unknown) => void;
  }
  const waiting = new Map<string, Waiting>();
  let timer: NodeJS.Timeout | null = null;

  const arm = (ms = delayMs) => {
    timer ??= setTimeout(() => {
      timer = null;
      const batch = new Map(waiting);
      waiting.clear();
      if (batch.size === 0) return;
      markEmailsSent(sql, [...batch.keys()]).then(
        () => batch.forEach((w) => w.resolve()),
        (err: unknown) => {
          log.warn({ err: (err as Error).message, emails: batch.size }, 'marking sent emails failed; trying again');
          for (const [id, w] of batch)
            if (Date.now() - w.since >= MARK_RETRY_MS) w.reject(err);
            else waiting.set(id, w);
          if (waiting.size) arm(1_000);
        },
      );
    }, ms);
  };

  return {
    /** Resolves once the email's row says SENT. */
    add(eventId: string): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        waiting.set(eventId, { since: Date.now(), resolve, reject });
        arm();
      });
    },
    /**
     * The marks waiting, for a statement to carry (all but `except`, the event that statement claims):
     * `done()` after it committed, `failed()` after it failed (they wait for the next one again).
     */
    take(except: string) {
      const batch = new Map([...waiting].filter(([id]) => id !== except));
      for (const id of batch.keys()) waiting.delete(id);
      return {
        ids: [...batch.keys()],
        done: () => batch.forEach((w) => w.resolve()),
        failed: () => {
          for (const [id, w] of batch) waiting.set(id, w);
          if (batch.size) arm();
        },
      };
    },
  };
}

/**
 * Sends each customer email at most once, retries it until it is sent, and sends an order's emails in
 * the order of its stages (`EMAIL_AFTER`), across replicas too. Per email, on the way it usually goes:
 * ONE statement (`claimEmail`: claim, the order it shows, the stage guard, and the SENT marks of the
 * emails sent just before), the SMTP call, and the SENT mark carried by the next claim. The row is
 * claimed (PENDING) and committed before the SMTP call and says PENDING until its mark, so a crash
 * after the send, or a mark that fails, leaves a row that is never sent again rather than a second
 * copy; a refused send is recorded FAILED at once and retried with backoff. The Message-ID is derived
 * from the event id, so a receiving server can also recognise a copy.
 */
function createSender({ db, mailer, log, markDelayMs }: { db: Db; mailer: Mailer; log: Logger; markDelayMs: number }) {
  // For every order: plain SQL on the pool, not Prisma (docs/data-access.md).
  const sql = sqlPool(db);
  const marks = createSentMarks(sql, markDelayMs, log);

  /**
   * FAILED, so that the retry claims the email again: tried again each second for `MARK_RETRY_MS` when the
   * database refuses it (a restart), since a row left PENDING is never sent, and this one was not.
   */
  const refusedMarks = retry(handleAll, {
    maxAttempts: MARK_RETRY_MS / 1_000,
    backoff: new ConstantBackoff(1_000),
  });
  refusedMarks.onRetry((reason) =>
    log.warn(
      { err: 'error' in reason ? (reason.error as Error).message : undefined },
      'recording a refused email failed; trying again',
    ),
  );
  const recordRefused = (eventId: string, error: string) =>
    refusedMarks.execute(() => markEmailFailed(sql, eventId, error));

  return async function send(event: EventEnvelope, kind: EmailKind, attempt: number, detail: string | null) {
    const orderId = event.correlationId;
    const after = EMAIL_AFTER[kind];
    const carried = marks.take(event.id);
    let claim;
    try {
      claim = await claimEmail(sql, { eventId: event.id, orderId, kind, after, markSent: carried.ids });
    } catch (err) {
      carried.failed();
      throw err;
    }
    carried.done();
    if (!claim) throw new RetryLater(backoffMs(attempt), 'order not visible yet');
    if (!claim.customerEmail) {
      log.debug({ orderId, kind }, 'no email address for this customer; nothing sent');
      return;
    }
    // The previous stage's email is not out yet (in flight, being retried, or not handled yet): wait, with the
    // backoff of a refused send (the usual reason it lasts), so this one follows it rather than overtakes it.
    if (!claim.previousSettled) throw new RetryLater(backoffMs(attempt, 100, 60_000), `waiting for the ${after} email`);
    if (!claim.claimed) return; // sent, being sent, or possibly sent by an attempt that died: never again
    const mail = renderEmail(kind, claim.order, detail);
    try {
      await mailer.send({ to: claim.customerEmail, ...mail, messageId: `<${event.id}@orderflow.local>` });
    } catch (err) {
      await recordRefused(event.id, (err as Error).message.slice(0, 500));
      throw new RetryLater(backoffMs(attempt, 500, 60_000), `SMTP send failed: ${(err as Error).message}`);
    }
    log.info({ orderId, kind }, 'email sent');
    await marks.add(event.id);
  };
}

/** The two consumers that email customers: order received, and every customer-visible status. */
export function notificationHandlers({
  markDelayMs = 100,
  ...deps
}: {
  db: Db;
  mailer: Mailer;
  log: Logger;
  /**
   * How long a sent email's SENT mark waits for a claim statement to carry it before it is written on its
   * own (with every other mark waiting). Default 100 ms: at a few emails a second most marks ride along;
   * an event is acknowledged after its mark, so this is also the most an email's handling can wait.
   */
  markDelayMs?: number;
}) {
  const send = createSender({ ...deps, markDelayMs });
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
