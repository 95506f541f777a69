import { z } from 'zod';

/**
 * The data of every event (the public event contract, catalogued in schema/events/README.md), as zod schemas that
 * producers type against and consumers validate with. Fields may be added;
 * never renamed or removed.
 */
const orderStatus = z.enum([
  'PENDING_PAYMENT',
  'PENDING_SHIPMENT',
  'SHIPPED',
  'IN_TRANSIT',
  'DELIVERED',
  'CANCELLED',
  'PAYMENT_FAILED',
]);
const shipmentStatus = z.enum(['PROCESSING', 'SHIPPED', 'IN_TRANSIT', 'DELIVERED', 'CANCELLED']);
/** An order's status, as events carry it (the orders database's enum has the same values). */
export type OrderStatus = z.infer<typeof orderStatus>;
/** A shipment's status, as events carry it (the shipments database's enum has the same values). */
export type ShipmentStatus = z.infer<typeof shipmentStatus>;
const money = z.object({ amount: z.string(), currencyCode: z.string() });
const stockItems = z.array(z.object({ productId: z.string().uuid(), quantity: z.number().int().positive() })).min(1);

export const EventSchemas = {
  'orders.created': z.object({
    orderId: z.string().uuid(),
    customerId: z.string(),
    customerEmail: z.string().nullable().optional(),
    items: z
      .array(z.object({ productId: z.string().uuid(), quantity: z.number().int().positive(), unitPrice: z.string() }))
      .min(1),
    totalAmount: money,
    paymentToken: z.string(),
  }),
  'orders.status_changed': z.object({
    orderId: z.string().uuid(),
    customerId: z.string(),
    previousStatus: orderStatus.nullable(),
    status: orderStatus,
    reason: z.string().nullable(),
    /** Id of the status-history entry (Query.orderStatusChange). */
    changeId: z.string().optional(),
    /**
     * When the status-history entry says the change happened (ISO 8601, milliseconds): the same value
     * Query.orderStatusChange and Order.statusHistory answer, decided once before the event is built.
     * The envelope's occurredAt is when the event was built, a little later. Absent from events built
     * before it was added.
     */
    occurredAt: z.string().optional(),
  }),
  'orders.cancelled': z.object({
    orderId: z.string().uuid(),
    reason: z.string().nullable(),
    stockCommitted: z.boolean(),
  }),
  /**
   * A customer asked to cancel a paid order (PENDING_SHIPMENT): the shipments service arbitrates it
   * against a dispatch and answers shipments.cancelled or shipments.cancel_refused, each carrying
   * `requestId`. Not in the contract's table: an addition.
   */
  'orders.cancel_requested': z.object({
    orderId: z.string().uuid(),
    /** The request's id (the order's cancel_requests row); the verdict names it. */
    requestId: z.string().uuid(),
    reason: z.string(),
  }),
  /**
   * Orders' answer to inventory.reservation_overdue: whether the order was recorded. Products keeps a
   * recorded order's reservation and releases the others. Not in the contract's table: an addition.
   */
  'orders.reservation_checked': z.object({ orderId: z.string().uuid(), orderExists: z.boolean() }),
  'payments.succeeded': z.object({ orderId: z.string().uuid(), paymentId: z.string().uuid(), amount: money }),
  'payments.failed': z.object({ orderId: z.string().uuid(), reason: z.string(), retryable: z.boolean() }),
  'payments.refunded': z.object({
    orderId: z.string().uuid(),
    paymentId: z.string().uuid(),
    amount: money,
    reason: z.string(),
  }),
  'inventory.reserved': z.object({ orderId: z.string().uuid(), items: stockItems }),
  'inventory.released': z.object({ orderId: z.string().uuid(), items: stockItems, reason: z.string().optional() }),
  'inventory.committed': z.object({ orderId: z.string().uuid(), items: stockItems }),
  'inventory.returned': z.object({ orderId: z.string().uuid(), items: stockItems }),
  'inventory.low_stock': z.object({
    productId: z.string().uuid(),
    availableQuantity: z.number().int(),
    threshold: z.number().int(),
  }),
  /**
   * A reservation is still held past its deadline and no recorded order has confirmed it: products asks
   * orders whether the order exists (orders answers with orders.reservation_checked). Not in the
   * contract's table: an addition.
   */
  'inventory.reservation_overdue': z.object({ orderId: z.string().uuid() }),
  'shipments.created': z.object({
    shipmentId: z.string().uuid(),
    orderId: z.string().uuid(),
    trackingNumber: z.string(),
    carrier: z.string(),
  }),
  'shipments.status_updated': z.object({
    shipmentId: z.string().uuid(),
    orderId: z.string().uuid(),
    previousStatus: shipmentStatus,
    status: shipmentStatus,
    location: z.string().nullable(),
  }),
  /**
   * The shipments service cancelled an order's shipment at the orders
   * service's request (orders.cancel_requested; a PROCESSING shipment, or
   * none yet, so a late creation loses): its side of a paid order's cancel is
   * final, and orders completes its own side from it (CANCELLED, refund,
   * orders.cancelled). Not in the contract's table: an addition.
   */
  'shipments.cancelled': z.object({
    shipmentId: z.string().uuid(),
    orderId: z.string().uuid(),
    /** The status the shipment was cancelled from: PROCESSING, or null when none had been created yet. */
    previousStatus: z.literal('PROCESSING').nullable(),
    reason: z.string(),
    /** The orders.cancel_requested it answers (absent on events from before cancel requests). */
    requestId: z.string().uuid().optional(),
  }),
  /**
   * The shipments service refused a cancel request: the shipment had been dispatched first (of a
   * cancel and a dispatch exactly one wins). The order goes on to be delivered. Not in the contract's
   * table: an addition.
   */
  'shipments.cancel_refused': z.object({
    orderId: z.string().uuid(),
    requestId: z.string().uuid(),
    shipmentId: z.string().uuid(),
    /** The shipment's status when the request arrived: SHIPPED or later. */
    shipmentStatus: shipmentStatus,
  }),
} as const;

export type EventType = keyof typeof EventSchemas;
export type EventData<T extends EventType> = z.infer<(typeof EventSchemas)[T]>;

/** The envelope of every event. */
export interface EventEnvelope<T = unknown> {
  id: string;
  type: string;
  version: number;
  occurredAt: string;
  source: string;
  correlationId: string;
  causationId: string | null;
  traceparent: string | null;
  data: T;
}

/**
 * The JetStream streams and the subjects each holds: the one registry of which stream a subject lives in
 * (services declare them, consumers and the gateway's subscriptions read from them). Payments live with
 * orders: the payment worker is part of the orders service.
 */
export const STREAMS = [
  { name: 'ORDERS', subjects: ['orders.>', 'payments.>'] },
  { name: 'INVENTORY', subjects: ['inventory.>'] },
  { name: 'SHIPMENTS', subjects: ['shipments.>'] },
  { name: 'DLQ', subjects: ['dlq.>'] },
] as const;
export type StreamName = (typeof STREAMS)[number]['name'];

/** The stream that holds `subject` (an event type such as `orders.created`, or `dlq.<type>`). */
export function streamOf(subject: string): StreamName {
  const root = subject.split('.')[0];
  const stream = STREAMS.find((s) => s.subjects.some((p) => p === subject || p === `${root}.>`));
  if (!stream) throw new Error(`no stream holds subject ${subject}`);
  return stream.name;
}
