import { formatCents } from '@orderflow/contracts';

/** The customer-visible stages that send an email, by the order status they report. */
export type EmailKind = 'order-received' | 'payment-failed' | 'shipped' | 'delivered' | 'cancelled';

export const EMAIL_FOR_STATUS: Partial<Record<string, EmailKind>> = {
  PAYMENT_FAILED: 'payment-failed',
  SHIPPED: 'shipped',
  DELIVERED: 'delivered',
  CANCELLED: 'cancelled',
};

/**
 * The email each one follows: a customer reads an order's emails in the order of its stages, so an
 * email waits until the one before it is settled (sent, or given up as unknown), whichever replica
 * handles which. `order-received` starts every order; `delivered` comes only after `shipped` (an order
 * moves SHIPPED → IN_TRANSIT → DELIVERED); the others end an order.
 */
export const EMAIL_AFTER: Record<EmailKind, EmailKind | null> = {
  'order-received': null,
  'payment-failed': 'order-received',
  cancelled: 'order-received',
  shipped: 'order-received',
  delivered: 'shipped',
};

export interface EmailOrder {
  id: string;
  totalCents: number;
  currencyCode: string;
  shipName: string;
  items: { productName: string | null; productId: string; quantity: number; unitPriceCents: number }[];
}

const SUBJECTS: Record<EmailKind, (ref: string) => string> = {
  'order-received': (ref) => `We received your order ${ref}`,
  'payment-failed': (ref) => `Payment for order ${ref} failed`,
  shipped: (ref) => `Your order ${ref} is on its way`,
  delivered: (ref) => `Your order ${ref} was delivered`,
  cancelled: (ref) => `Your order ${ref} was cancelled`,
};

const LEADS: Record<EmailKind, string> = {
  'order-received': 'Thank you for your order. We are processing your payment now.',
  'payment-failed':
    'We could not take the payment for your order, and the items were released. You can place the order again with another card.',
  shipped: 'Good news: your order has left our warehouse.',
  delivered: 'Your order was delivered. We hope you enjoy it.',
  cancelled: 'Your order was cancelled. If you were charged, the amount is refunded.',
};

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Renders one email, plain text and HTML, from the order and the stage. Pure. */
export function renderEmail(kind: EmailKind, order: EmailOrder, detail: string | null) {
  const ref = order.id.slice(0, 8).toUpperCase();
  const money = (cents: number) => `${formatCents(cents)} ${order.currencyCode}`;
  const lines = order.items.map((i) => ({
    name: i.productName ?? i.productId,
    qty: i.quantity,
    total: money(i.unitPriceCents * i.quantity),
  }));
  const text = [
    `Hello ${order.shipName},`,
    '',
    LEADS[kind],
    ...(detail ? ['', detail] : []),
    '',
    `Order ${ref}`,
    ...lines.map((l) => `  ${l.qty} × ${l.name}  ${l.total}`),
    `  Total: ${money(order.totalCents)}`,
    '',
    '— orderflow',
  ].join('\n');
  const html = `<!doctype html><html><body style="font-family:sans-serif">
<p>Hello ${escape(order.shipName)},</p>
<p>${escape(LEADS[kind])}</p>${detail ? `\n<p>${escape(detail)}</p>` : ''}
<h3>Order ${ref}</h3>
<table>${lines.map((l) => `<tr><td>${l.qty} ×</td><td>${escape(l.name)}</td><td align="right">${escape(l.total)}</td></tr>`).join('')}
<tr><td></td><td><b>Total</b></td><td align="right"><b>${escape(money(order.totalCents))}</b></td></tr></table>
<p>— orderflow</p></body></html>`;
  return { subject: SUBJECTS[kind](ref), text, html };
}
