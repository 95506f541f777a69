import { useMutation, useQuery } from '@apollo/client/react';
import { useState, type FormEvent, type ReactNode } from 'react';
import { CANCEL_ORDER_AS_OPERATOR, OPERATOR_ORDER, REPLAY_DEAD_LETTER } from '../graphql/operator.ts';
import type {
  CancelOrderAsOperatorMutation,
  OperatorOrderQuery,
  OrderStatus,
  TimelineEntryFieldsFragment,
  TimelineKind,
} from '../gql/graphql.ts';
import { CopyButton } from '../components/copy-button.tsx';
import { ShipmentCard } from '../components/shipment-card.tsx';
import { ShipmentMover } from '../components/shipment-mover.tsx';
import { Empty, ErrorBanner, StatusBadge, errorMessage, statusLabel } from '../components/ui.tsx';
import { formatDateTime, formatMoney } from '../lib/format.ts';
import { href } from '../lib/router.ts';
import { lastSearchPath } from './operator-orders.tsx';

/** The order page follows the saga by asking again this often (the timeline merges several services' records). */
const POLL_MS = 3_000;

/** The contract's cancel rule, the same for the operator as for the customer: before SHIPPED. */
const CANCELLABLE: OrderStatus[] = ['PENDING_PAYMENT', 'PENDING_SHIPMENT'];

type OperatorOrder = NonNullable<OperatorOrderQuery['order']>;

const KIND_LABELS: Record<TimelineKind, string> = {
  STATUS: 'Status',
  PAYMENT: 'Payment',
  STOCK: 'Stock',
  SHIPMENT: 'Shipment',
  EMAIL: 'Email',
  DEAD_LETTER: 'Dead letter',
  OPERATOR: 'Operator',
};

/** 16×16 line icons, one per kind of timeline entry. */
const KIND_ICONS: Record<TimelineKind, ReactNode> = {
  STATUS: (
    <>
      <circle cx="8" cy="8" r="6" />
      <path d="M5 8.2l2 2 4-4.2" />
    </>
  ),
  PAYMENT: (
    <>
      <rect x="1.5" y="3.5" width="13" height="9" rx="1.5" />
      <path d="M1.5 6.5h13M4 10h3" />
    </>
  ),
  STOCK: (
    <>
      <path d="M8 1.8l6 3v6.4l-6 3-6-3V4.8z" />
      <path d="M2 4.8l6 3 6-3M8 7.8v6.4" />
    </>
  ),
  SHIPMENT: (
    <>
      <path d="M1.5 4h8v7h-8zM9.5 6.5h3l2 2.5V11h-5" />
      <circle cx="4.5" cy="12" r="1.5" />
      <circle cx="11.5" cy="12" r="1.5" />
    </>
  ),
  EMAIL: (
    <>
      <rect x="1.5" y="3.5" width="13" height="9" rx="1.5" />
      <path d="M2 4.5l6 4.5 6-4.5" />
    </>
  ),
  DEAD_LETTER: (
    <>
      <path d="M8 1.8l6.7 12H1.3z" />
      <path d="M8 6.3v3.6M8 11.6v.4" />
    </>
  ),
  OPERATOR: (
    <>
      <circle cx="8" cy="5" r="3" />
      <path d="M2.5 14.5c.6-3 2.8-4.5 5.5-4.5s4.9 1.5 5.5 4.5" />
    </>
  ),
};

function KindIcon({ kind }: { kind: TimelineKind }) {
  return (
    <svg className="kind-icon" viewBox="0 0 16 16" aria-hidden>
      {KIND_ICONS[kind]}
    </svg>
  );
}

/**
 * The dead-letter stream's sequence of a DEAD_LETTER entry, which the
 * replay needs: the orders service writes it into the summary
 * ("… after 5 deliveries (sequence 42): …").
 */
export function deadLetterSequence(entry: TimelineEntryFieldsFragment): number | null {
  if (entry.kind !== 'DEAD_LETTER') return null;
  const match = /\(sequence (\d+)\)/.exec(entry.summary);
  return match ? Number(match[1]) : null;
}

function ReplayButton({ sequence }: { sequence: number }) {
  const [replay, { loading, error, data }] = useMutation(REPLAY_DEAD_LETTER);
  if (data?.replayDeadLetter) return <span className="banner-inline ok">Replayed</span>;
  return (
    <>
      <button
        type="button"
        className="small-button"
        disabled={loading}
        onClick={() => void replay({ variables: { sequence } }).catch(() => null)}
        data-testid="replay-dead-letter"
        data-sequence={sequence}
      >
        {loading ? 'Replaying…' : 'Replay'}
      </button>
      {data && !data.replayDeadLetter && (
        <span className="warn">Nothing to replay: the event is no longer in the dead-letter stream.</span>
      )}
      {error && <span className="warn">{errorMessage(error)}</span>}
    </>
  );
}

/** Oldest first; entries at the same instant keep the server's order. */
function chronological(entries: TimelineEntryFieldsFragment[]) {
  return entries
    .map((entry, i) => ({ entry, i, t: Date.parse(entry.at) }))
    .sort((a, b) => a.t - b.t || a.i - b.i)
    .map(({ entry }) => entry);
}

function Timeline({ entries }: { entries: TimelineEntryFieldsFragment[] }) {
  if (entries.length === 0) return <p className="muted">Nothing recorded yet.</p>;
  return (
    <ol className="order-timeline" data-testid="order-timeline">
      {chronological(entries).map((e, i) => {
        const sequence = deadLetterSequence(e);
        return (
          <li key={`${e.at}-${e.kind}-${i}`} className={`kind-${e.kind.toLowerCase()}`} data-kind={e.kind}>
            <KindIcon kind={e.kind} />
            <div className="entry">
              <div className="entry-head">
                <span className="kind-label">{KIND_LABELS[e.kind] ?? e.kind}</span>
                <span className="entry-summary">{e.summary}</span>
              </div>
              <div className="entry-meta muted small">
                <time dateTime={e.at}>{formatDateTime(e.at)}</time>
                {e.actor && (
                  <span data-testid="timeline-actor">
                    {' '}
                    · by <strong>{e.actor}</strong>
                  </span>
                )}
                <span className="entry-source"> · {e.source}</span>
              </div>
              {sequence !== null && (
                <div className="entry-actions">
                  <ReplayButton sequence={sequence} />
                </div>
              )}
            </div>
          </li>
        );
      })}
    </ol>
  );
}

function OperatorCancel({ order }: { order: OperatorOrder }) {
  const [reason, setReason] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [cancel, { loading, error }] = useMutation(CANCEL_ORDER_AS_OPERATOR);
  const [result, setResult] = useState<CancelOrderAsOperatorMutation['cancelOrderAsOperator'] | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!confirming) return setConfirming(true);
    setConfirming(false);
    const res = await cancel({
      variables: { orderId: order.id, reason: reason.trim() || null },
    }).catch(() => null);
    if (res?.data) setResult(res.data.cancelOrderAsOperator);
  }

  return (
    <div className="card" data-testid="operator-cancel">
      <h2>Cancel the order</h2>
      {CANCELLABLE.includes(order.status) ? (
        <form className="cancel" onSubmit={submit}>
          <input
            name="reason"
            placeholder="Reason (shown in the timeline)"
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            aria-label="Reason"
            maxLength={500}
          />
          {confirming ? (
            <>
              <span>Cancel it? Reserved or paid items are released and the payment refunded.</span>
              <button type="submit" className="danger" disabled={loading} data-testid="confirm-operator-cancel">
                Yes, cancel it
              </button>
              <button type="button" onClick={() => setConfirming(false)}>
                Keep it
              </button>
            </>
          ) : (
            <button type="submit" className="danger outline" disabled={loading} data-testid="operator-cancel-order">
              Cancel order
            </button>
          )}
        </form>
      ) : (
        <p className="muted">
          {order.status === 'CANCELLED'
            ? 'This order is cancelled.'
            : `A ${statusLabel(order.status).toLowerCase()} order can no longer be cancelled.`}
        </p>
      )}
      {result?.__typename === 'CannotCancel' && (
        <div className="banner banner-error" role="alert" data-testid="cannot-cancel">
          <strong>Not cancelled.</strong> {result.message} (status: {statusLabel(result.status)})
        </div>
      )}
      {result?.__typename === 'OrderCancelled' && (
        <div className="banner banner-ok" data-testid="operator-cancelled">
          Cancelled. The stock goes back and the payment is refunded as the saga runs (see the timeline).
        </div>
      )}
      {result?.__typename === 'CancellationPending' && (
        <div className="banner banner-ok" data-testid="operator-cancellation-pending">
          Cancellation requested: it is being completed. {result.message}
        </div>
      )}
      <ErrorBanner error={error} />
    </div>
  );
}

function Items({ order }: { order: OperatorOrder }) {
  return (
    <table className="table" data-testid="operator-order-items">
      <thead>
        <tr>
          <th>Product</th>
          <th className="num">Qty</th>
          <th className="num">Unit</th>
          <th className="num">Line</th>
          <th className="num" title="The product's stock free to order now">
            Available now
          </th>
        </tr>
      </thead>
      <tbody>
        {order.items.map((i) => (
          <tr key={i.productId} data-product-id={i.productId}>
            <td>
              {i.product.name}
              <div className="sku">{i.product.sku}</div>
            </td>
            <td className="num">{i.quantity}</td>
            <td className="num">{formatMoney(i.unitPrice)}</td>
            <td className="num">{formatMoney(i.lineTotal)}</td>
            <td className="num" data-testid="item-available" data-value={i.product.availableQuantity}>
              {i.product.availableQuantity}
            </td>
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr>
          <td colSpan={3}>Total</td>
          <td className="num">{formatMoney(order.totalAmount)}</td>
          <td />
        </tr>
      </tfoot>
    </table>
  );
}

export function OperatorOrderPage({ id }: { id: string }) {
  const { data, loading, error, refetch } = useQuery(OPERATOR_ORDER, {
    variables: { id },
    pollInterval: POLL_MS,
    skipPollAttempt: () => document.hidden,
    fetchPolicy: 'cache-and-network',
    errorPolicy: 'all',
  });
  const order = data?.order ?? null;
  const back = (
    <a href={href(lastSearchPath())} className="muted">
      ← Find orders
    </a>
  );

  if (loading && !data) return <p className="muted">Loading the order…</p>;
  if (!order)
    return (
      <div className="card">
        {back}
        {error ? <ErrorBanner error={error} /> : <Empty>No order with id {id}.</Empty>}
      </div>
    );

  const a = order.shippingAddress;
  return (
    <div data-testid="operator-order" data-order-id={order.id}>
      <div className="card">
        {back}
        <div className="head-status">
          <h2 className="order-title">
            Order <span className="mono">{order.id.slice(0, 8)}</span>
          </h2>
          <StatusBadge status={order.status} testId="operator-order-status" />
        </div>
        <dl className="facts">
          <dt>Order id</dt>
          <dd className="mono small">
            {order.id} <CopyButton text={order.id} />
          </dd>
          <dt>Customer</dt>
          <dd data-testid="operator-order-customer">
            {order.customerEmail && (
              <>
                <a href={href(`/operator/orders?email=${encodeURIComponent(order.customerEmail)}`)}>
                  {order.customerEmail}
                </a>{' '}
              </>
            )}
            <span className="mono small muted">{order.customerId}</span>
          </dd>
          <dt>Placed</dt>
          <dd>{formatDateTime(order.createdAt)}</dd>
          <dt>Last change</dt>
          <dd>{formatDateTime(order.updatedAt)}</dd>
          <dt>Ship to</dt>
          <dd>
            {a.name}, {a.line1}
            {a.line2 ? `, ${a.line2}` : ''}, {a.postalCode} {a.city}, {a.country}
          </dd>
        </dl>
        <h3>Items</h3>
        <Items order={order} />
        {error && <p className="warn">Could not refresh: {errorMessage(error)}</p>}
      </div>
      <div className="columns">
        <div>
          <div className="card" data-testid="operator-shipment">
            <h2>Shipment</h2>
            {order.shipment ? (
              <>
                <ShipmentCard shipment={order.shipment} />
                <ShipmentMover shipment={order.shipment} onMoved={() => void refetch()} />
              </>
            ) : (
              <p className="muted">
                {order.status === 'PENDING_PAYMENT' || order.status === 'PENDING_SHIPMENT'
                  ? 'No shipment yet: it is created once the order is paid.'
                  : 'This order has no shipment.'}
              </p>
            )}
          </div>
          <OperatorCancel order={order} />
        </div>
        <div className="card" data-testid="timeline-card">
          <h2>Timeline</h2>
          <Timeline entries={order.timeline} />
        </div>
      </div>
    </div>
  );
}
