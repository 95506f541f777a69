import { money } from '@orderflow/contracts';

/**
 * An order's timeline (Order.timeline): entries built from what each part of the saga recorded, merged
 * in time order, and cut down to what the viewer may see. Pure: the rows come from the service.
 */

export type TimelineKind = 'STATUS' | 'PAYMENT' | 'STOCK' | 'SHIPMENT' | 'EMAIL' | 'DEAD_LETTER' | 'OPERATOR';

export interface TimelineEntry {
  /** ISO-8601. */
  at: string;
  kind: TimelineKind;
  summary: string;
  actor: string | null;
  source: string;
}

/** An entry as built, with what only staff may see. */
export interface SourcedEntry extends TimelineEntry {
  /** Staff only (a replayed dead letter): left out of the owner's timeline. */
  internal?: boolean;
  /** What the owner sees instead of `summary` (one without internal error text). */
  ownerSummary?: string;
}

const iso = (d: Date) => d.toISOString();

export function statusEntry(change: {
  previousStatus: string | null;
  status: string;
  reason: string | null;
  occurredAt: Date;
}): SourcedEntry {
  const what = change.previousStatus
    ? `${change.previousStatus} → ${change.status}`
    : `Order placed (${change.status})`;
  return {
    at: iso(change.occurredAt),
    kind: 'STATUS',
    summary: change.reason && change.previousStatus ? `${what}: ${change.reason}` : what,
    actor: null,
    source: 'orders',
  };
}

/** The order's one payment: its outcome (with the attempts it took) and, when refunded, the refund. */
export function paymentEntries(payment: {
  status: 'SUCCEEDED' | 'FAILED' | 'REFUNDED';
  amountCents: number;
  currencyCode: string;
  reason: string | null;
  attempts: number;
  createdAt: Date;
  updatedAt: Date;
}): SourcedEntry[] {
  const m = money(payment.amountCents, payment.currencyCode);
  const amount = `${m.amount} ${m.currencyCode}`;
  const tries = payment.attempts > 1 ? ` after ${payment.attempts} attempts` : '';
  if (payment.status === 'FAILED')
    return [
      {
        at: iso(payment.createdAt),
        kind: 'PAYMENT',
        summary: `Payment of ${amount} failed${tries}: ${payment.reason ?? 'declined'}`,
        actor: null,
        source: 'orders',
      },
    ];
  const charged: SourcedEntry = {
    at: iso(payment.createdAt),
    kind: 'PAYMENT',
    summary: `Payment of ${amount} succeeded${tries}`,
    actor: null,
    source: 'orders',
  };
  if (payment.status === 'SUCCEEDED') return [charged];
  return [
    charged,
    {
      at: iso(payment.updatedAt),
      kind: 'PAYMENT',
      summary: `Refunded ${amount}${payment.reason ? `: ${payment.reason}` : ''}`,
      actor: null,
      source: 'orders',
    },
  ];
}

/** A customer email: sent (when it went out), or still being tried (with the SMTP error for staff). */
export function emailEntry(email: {
  kind: string;
  recipient: string;
  status: 'PENDING' | 'SENT' | 'FAILED' | 'UNKNOWN';
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
}): SourcedEntry {
  const what = `Email "${email.kind}" to ${email.recipient}`;
  const base = { kind: 'EMAIL' as const, actor: null, source: 'orders' };
  switch (email.status) {
    case 'SENT':
      return { ...base, at: iso(email.updatedAt), summary: `${what} sent` };
    case 'PENDING':
      return { ...base, at: iso(email.createdAt), summary: `${what} being sent` };
    case 'UNKNOWN':
      return {
        ...base,
        at: iso(email.updatedAt),
        summary: `${what} may have been sent (the sender stopped mid-send; not sent again)`,
        ownerSummary: `${what} may have been sent`,
      };
    case 'FAILED':
      return {
        ...base,
        at: iso(email.updatedAt),
        summary: `${what} not sent yet (attempt ${email.attempts}${email.lastError ? `: ${email.lastError}` : ''}); retrying`,
        ownerSummary: `${what} not sent yet; retrying`,
      };
  }
}

/** Something an operator did (cancelOrderAsOperator, replayDeadLetter). */
export function operatorEntry(action: {
  actor: string;
  summary: string;
  internal: boolean;
  occurredAt: Date;
}): SourcedEntry {
  return {
    at: iso(action.occurredAt),
    kind: 'OPERATOR',
    summary: action.summary,
    actor: action.actor,
    source: 'orders',
    internal: action.internal,
  };
}

/** One of the order's events in the dead-letter stream (staff only). */
export function deadLetterEntry(letter: {
  seq: number;
  time: string;
  type: string;
  consumer: string;
  deliveries: number;
  error: string;
}): SourcedEntry {
  return {
    at: letter.time,
    kind: 'DEAD_LETTER',
    summary: `${letter.type} dead-lettered by ${letter.consumer} after ${letter.deliveries} deliveries (sequence ${letter.seq}): ${letter.error}`,
    actor: null,
    source: 'dlq',
    internal: true,
  };
}

/** Same instant (one transaction): the cause before its effects. */
const RANK: Record<TimelineKind, number> = {
  OPERATOR: 0,
  STOCK: 1,
  PAYMENT: 2,
  STATUS: 3,
  SHIPMENT: 4,
  EMAIL: 5,
  DEAD_LETTER: 6,
};

/**
 * Every part's entries in one list, oldest first. Staff see everything; the owner sees no internal
 * entry (dead letters, replays), no internal error text and no actor.
 */
export function mergeTimeline(parts: SourcedEntry[][], { staff }: { staff: boolean }): TimelineEntry[] {
  const all = parts
    .flat()
    .filter((e) => staff || (!e.internal && e.kind !== 'DEAD_LETTER'))
    .map(({ at, kind, summary, actor, source, ownerSummary }) =>
      staff
        ? { at, kind, summary, actor, source }
        : { at, kind, summary: ownerSummary ?? summary, actor: null, source },
    );
  return all.sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || RANK[a.kind] - RANK[b.kind]);
}
