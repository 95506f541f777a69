import type { EventType } from '@orderflow/contracts';

/**
 * The order saga, declared in one place: read this file to follow an order from placeOrder to its last
 * email. Each step names what starts it (an event, a synchronous call or a timer), the service that owns
 * its effect, the handler (its durable consumer is `<owner>-<handler>`), the events it emits and its
 * compensation. `schema/events/README.md` is generated from this declaration and the event types
 * (`npm run docs:events`), and `test/saga-definition.int.test.ts` checks that the consumers a running
 * system registers on NATS are exactly the ones declared here.
 *
 * The declaration is data, not wiring: subgraphs never import each other, so each service registers its
 * own handlers (`src/events/`), and the test keeps the two in step.
 */

export type SagaService = 'orders' | 'products' | 'shipments';

export type SagaTrigger =
  { event: EventType; when?: string } | { call: string; from: SagaService | 'client' } | { timer: string };

export interface SagaStep {
  /** What the step does, as a short verb phrase; the saga table's first column. */
  step: string;
  starts: SagaTrigger;
  owner: SagaService;
  /** The handler's name: its durable consumer is `<owner>-<handler>` (event steps only). */
  handler?: string;
  /** The effect in the owner's database, in a sentence. */
  effect: string;
  emits: readonly EventType[];
  /** What undoes the step, or why nothing needs to. */
  compensation: string;
  /** Deliveries before the dead-letter queue (the consumer's default is 8). */
  maxDeliver?: number;
}

export const ORDER_SAGA: readonly SagaStep[] = [
  {
    step: 'reserve stock',
    starts: {
      call: 'placeOrder → POST /internal/reservations (the one synchronous call between services)',
      from: 'orders',
    },
    owner: 'products',
    effect: 'available → reserved for every line, all or nothing, in one statement (no unit sold twice)',
    emits: ['inventory.reserved', 'inventory.low_stock'],
    compensation:
      'placeOrder releases it (POST /internal/reservations/release, part of the same call’s API) when recording the order fails; overdue reservations are released by the steps below',
  },
  {
    step: 'record the order',
    starts: { call: 'placeOrder (GraphQL)', from: 'client' },
    owner: 'orders',
    effect: 'order, items, first status PENDING_PAYMENT and its outbox rows in one statement',
    emits: ['orders.created', 'orders.status_changed'],
    compensation: 'cancelOrder; a failed payment ends it in PAYMENT_FAILED',
  },
  {
    step: 'ask about overdue reservations',
    starts: { timer: 'every SWEEP_INTERVAL_MS (products), over reservations still held past their deadline' },
    owner: 'products',
    effect:
      'marks them asked (again after a minute without an answer); payment settles almost every reservation long before its deadline',
    emits: ['inventory.reservation_overdue'],
    compensation: 'none: this is the reservation call’s compensation of last resort',
  },
  {
    step: 'say whether the order exists',
    starts: { event: 'inventory.reservation_overdue' },
    owner: 'orders',
    handler: 'check-reservation',
    effect: 'reads whether the order was recorded (the deadline outlasts any placeOrder in flight)',
    emits: ['orders.reservation_checked'],
    compensation: 'none: a read',
  },
  {
    step: 'release orphaned reservations',
    starts: { event: 'orders.reservation_checked' },
    owner: 'products',
    handler: 'settle-overdue-reservation',
    effect: 'a recorded order keeps its reservation (confirmed); any other is released (RELEASE)',
    emits: ['inventory.released'],
    compensation: 'none',
  },
  {
    step: 'charge the payment',
    starts: { event: 'orders.created' },
    owner: 'orders',
    handler: 'payments',
    effect:
      'one payment row per order (simulated test tokens) and, in the same transaction, PENDING_PAYMENT → PENDING_SHIPMENT, or PAYMENT_FAILED when declined; transient errors retried with backoff; an order cancelled meanwhile is not charged',
    emits: ['payments.succeeded', 'payments.failed', 'orders.status_changed'],
    compensation: 'cancelOrder of a paid order refunds it → payments.refunded',
  },
  {
    step: 'commit the stock',
    starts: { event: 'payments.succeeded' },
    owner: 'products',
    handler: 'commit-reservation',
    effect: 'reserved → sold (COMMIT)',
    emits: ['inventory.committed'],
    compensation: 'RETURN on orders.cancelled with stockCommitted',
  },
  {
    step: 'release the stock of a failed payment',
    starts: { event: 'payments.failed' },
    owner: 'products',
    handler: 'release-on-payment-failure',
    effect: 'reserved → available (RELEASE)',
    emits: ['inventory.released'],
    compensation: 'none: the order ends here',
  },
  {
    step: 'create the shipment',
    starts: { event: 'orders.status_changed', when: 'status PENDING_SHIPMENT' },
    owner: 'shipments',
    handler: 'create-shipment',
    effect: 'a PROCESSING shipment with carrier and tracking number (a CANCELLED placeholder makes a late one lose)',
    emits: ['shipments.created'],
    compensation: 'a cancel request (orders.cancel_requested) cancels it while still PROCESSING → shipments.cancelled',
  },
  {
    step: 'move the shipment',
    starts: { call: 'updateShipmentStatus (GraphQL, delivery partner)', from: 'client' },
    owner: 'shipments',
    effect: 'PROCESSING → SHIPPED → IN_TRANSIT → DELIVERED, one step at a time; a cancelled shipment never moves',
    emits: ['shipments.status_updated'],
    compensation: 'none: a dispatched order can no longer be cancelled',
  },
  {
    step: 'follow the delivery',
    starts: { event: 'shipments.status_updated' },
    owner: 'orders',
    handler: 'shipment-status',
    effect: 'mirrors SHIPPED, IN_TRANSIT, DELIVERED strictly in order (a step that arrives early waits)',
    emits: ['orders.status_changed'],
    compensation: 'none: a dispatched order can no longer be cancelled',
    maxDeliver: 30,
  },
  {
    step: 'cancel the order',
    starts: { call: 'cancelOrder (GraphQL)', from: 'client' },
    owner: 'orders',
    effect:
      'before payment: CANCELLED at once, the reservation released; after payment: a cancel request (one waiting per order) with orders.cancel_requested, then the call waits up to CANCEL_VERDICT_TIMEOUT_MS for the verdict on the order row (else CancellationPending; the cancel completes anyway)',
    emits: ['orders.cancelled', 'orders.status_changed', 'orders.cancel_requested'],
    compensation: 'none: cancelling is the compensation of the steps above',
  },
  {
    step: 'give up the shipment for a cancel',
    starts: { event: 'orders.cancel_requested' },
    owner: 'shipments',
    handler: 'cancel-shipment',
    effect:
      'arbitrates the cancel against a dispatch: a PROCESSING (or not yet created: a CANCELLED placeholder) shipment becomes CANCELLED; a dispatched one refuses',
    emits: ['shipments.cancelled', 'shipments.status_updated', 'shipments.cancel_refused'],
    compensation: 'none: from here the cancel is decided and the order must follow (next steps)',
    maxDeliver: 30,
  },
  {
    step: 'complete a cancel shipments decided',
    starts: { event: 'shipments.cancelled' },
    owner: 'orders',
    handler: 'shipment-cancelled',
    effect:
      'the request answered CANCELLED; a paid order still PENDING_SHIPMENT → CANCELLED and refunded, in one transaction; an order already CANCELLED is left alone',
    emits: ['orders.cancelled', 'orders.status_changed', 'payments.refunded'],
    compensation: 'none',
    maxDeliver: 30,
  },
  {
    step: 'answer a cancel that came too late',
    starts: { event: 'shipments.cancel_refused' },
    owner: 'orders',
    handler: 'shipment-cancel-refused',
    effect:
      'the request answered REFUSED (the waiting cancelOrder answers CannotCancel); the order goes on to be delivered',
    emits: [],
    compensation: 'none: the dispatch won',
    maxDeliver: 30,
  },
  {
    step: 'restock a cancelled order',
    starts: { event: 'orders.cancelled' },
    owner: 'products',
    handler: 'restock-on-cancel',
    effect: 'a held reservation is released (RELEASE); committed units come back (RETURN)',
    emits: ['inventory.released', 'inventory.returned'],
    compensation: 'none: the order ends here',
  },
  {
    step: 'email: order received',
    starts: { event: 'orders.created' },
    owner: 'orders',
    handler: 'email-order-received',
    effect:
      'the "order received" email, claimed in the database before the SMTP call (never sent twice); the claim reads the order in the same statement',
    emits: [],
    compensation: 'none',
    maxDeliver: 30,
  },
  {
    step: 'email: status changed',
    starts: { event: 'orders.status_changed', when: 'status PAYMENT_FAILED, SHIPPED, DELIVERED or CANCELLED' },
    owner: 'orders',
    handler: 'email-status-changed',
    effect:
      "the email for that status, claimed in the database before the SMTP call once the previous stage's email is out (stage order across replicas)",
    emits: [],
    compensation: 'none',
    maxDeliver: 30,
  },
];

/** The durable consumers the saga declares, as `<owner>-<handler>` → the subject it consumes. */
export function declaredConsumers(saga: readonly SagaStep[] = ORDER_SAGA): Map<string, EventType> {
  const out = new Map<string, EventType>();
  for (const step of saga) {
    if (step.handler && 'event' in step.starts) out.set(`${step.owner}-${step.handler}`, step.starts.event);
  }
  return out;
}
