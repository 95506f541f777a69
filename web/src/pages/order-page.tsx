import { useMutation, useQuery } from '@apollo/client/react';
import { useState } from 'react';
import { CANCEL_ORDER, ORDER, ORDER_STATUS_CHANGED } from '../graphql/orders.ts';
import type { CancelOrderMutation, OrderDetailsFragment, OrderStatus } from '../gql/graphql.ts';
import { CopyButton } from '../components/copy-button.tsx';
import { ShipmentCard } from '../components/shipment-card.tsx';
import { Empty, ErrorBanner, LiveIndicator, StatusBadge, statusLabel } from '../components/ui.tsx';
import { useLiveSubscription } from '../lib/live-subscription.ts';
import { formatDateTime, formatMoney } from '../lib/format.ts';
import { href } from '../lib/router.ts';

const HAPPY_PATH: OrderStatus[] = ['PENDING_PAYMENT', 'PENDING_SHIPMENT', 'SHIPPED', 'IN_TRANSIT', 'DELIVERED'];
/** The contract: the owner may cancel before SHIPPED. */
const CANCELLABLE: OrderStatus[] = ['PENDING_PAYMENT', 'PENDING_SHIPMENT'];

function StatusSteps({ order }: { order: OrderDetailsFragment }) {
  const reached = new Set(order.statusHistory.map((h) => h.status));
  const terminal = order.status === 'CANCELLED' || order.status === 'PAYMENT_FAILED';
  const steps = terminal ? [...HAPPY_PATH.filter((s) => reached.has(s)), order.status] : HAPPY_PATH;
  return (
    <ol className="steps" data-testid="status-steps">
      {steps.map((s) => (
        <li
          key={s}
          className={s === order.status ? `current ${terminal ? 'terminal' : ''}` : reached.has(s) ? 'done' : 'todo'}
        >
          <span className="step-dot" aria-hidden />
          {statusLabel(s)}
        </li>
      ))}
    </ol>
  );
}

function CancelOrder({ order }: { order: OrderDetailsFragment }) {
  const [cancel, { loading, error }] = useMutation(CANCEL_ORDER);
  const [result, setResult] = useState<CancelOrderMutation['cancelOrder'] | null>(null);
  const [confirming, setConfirming] = useState(false);

  async function run() {
    setConfirming(false);
    const res = await cancel({
      variables: { orderId: order.id, reason: 'Cancelled by the customer on the web' },
    }).catch(() => null);
    if (res?.data) setResult(res.data.cancelOrder);
  }

  return (
    <div className="cancel">
      {CANCELLABLE.includes(order.status) &&
        (confirming ? (
          <>
            <span>Cancel this order? Reserved or paid items are released and refunded.</span>
            <button type="button" className="danger" onClick={run} disabled={loading} data-testid="confirm-cancel">
              Yes, cancel it
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Keep it
            </button>
          </>
        ) : (
          <button
            type="button"
            className="danger outline"
            onClick={() => setConfirming(true)}
            disabled={loading}
            data-testid="cancel-order"
          >
            Cancel order
          </button>
        ))}
      {result?.__typename === 'CannotCancel' && (
        <div className="banner banner-error" role="alert" data-testid="cannot-cancel">
          <strong>This order can no longer be cancelled.</strong> {result.message} (status: {statusLabel(result.status)}
          )
        </div>
      )}
      {result?.__typename === 'OrderCancelled' && <div className="banner banner-ok">Your order is cancelled.</div>}
      {result?.__typename === 'CancellationPending' && (
        <div className="banner banner-ok" data-testid="cancellation-pending">
          Your cancellation is being completed. {result.message}
        </div>
      )}
      <ErrorBanner error={error} />
    </div>
  );
}

export function OrderPage({ id }: { id: string }) {
  const [lastEventAt, setLastEventAt] = useState<string | null>(null);
  const { data, loading, error } = useQuery(ORDER, { variables: { id }, fetchPolicy: 'cache-and-network' });
  const order = data?.order;
  // The shipment is created a moment after payment, without a status change of
  // the order to announce it: look for it until it is there.
  const waitingForShipment = order?.status === 'PENDING_SHIPMENT' && !order.shipment;
  useQuery(ORDER, { variables: { id }, skip: !waitingForShipment, pollInterval: 2_000, fetchPolicy: 'network-only' });

  // Every payload selects the whole order: the cache, and so this page, follows it.
  const live = useLiveSubscription(ORDER_STATUS_CHANGED, {
    variables: { orderId: id },
    startAfter: '0',
    skip: !order,
    onData: ({ orderStatusChanged }) => setLastEventAt(orderStatusChanged.occurredAt),
  });

  if (loading && !data) return <Empty>Loading the order…</Empty>;
  if (error && !order) return <ErrorBanner error={error} />;
  if (!order)
    return (
      <Empty>
        No such order in your account. <a href={href('/orders')}>Back to my orders</a>
      </Empty>
    );

  return (
    <section data-testid="order-page" data-order-id={order.id}>
      <div className="page-head">
        <div>
          <a href={href('/orders')} className="muted">
            ← My orders
          </a>
          <h1>
            Order <span className="mono">{order.id.slice(0, 8)}</span>
          </h1>
          <div className="ids muted">
            Order id <code data-testid="order-id">{order.id}</code> <CopyButton text={order.id} />
          </div>
        </div>
        <div className="head-status">
          <StatusBadge status={order.status} testId="order-status" />
          <LiveIndicator status={live.status} />
        </div>
      </div>
      {live.error && <ErrorBanner>Live updates stopped: {live.error}</ErrorBanner>}

      <div className="card">
        <StatusSteps order={order} />
        {lastEventAt && <div className="muted small">Last update {formatDateTime(lastEventAt)}</div>}
        <CancelOrder order={order} />
      </div>

      <div className="columns">
        <div className="card">
          <h2>Status history</h2>
          <ul className="timeline" data-testid="status-history">
            {order.statusHistory.map((h) => (
              <li key={`${h.status}-${h.occurredAt}`}>
                <StatusBadge status={h.status} />
                <span className="muted">{formatDateTime(h.occurredAt)}</span>
                {h.reason && <div className="reason">{h.reason}</div>}
              </li>
            ))}
          </ul>
        </div>
        <div className="card">
          <h2>Shipment</h2>
          {order.shipment ? (
            <ShipmentCard shipment={order.shipment} />
          ) : (
            <p className="muted">
              {waitingForShipment
                ? 'Preparing your shipment…'
                : order.status === 'PENDING_PAYMENT'
                  ? 'Created once your payment goes through.'
                  : 'No shipment.'}
            </p>
          )}
        </div>
      </div>

      <div className="columns">
        <div className="card">
          <h2>Items</h2>
          <table className="table">
            <tbody>
              {order.items.map((i) => (
                <tr key={i.productId}>
                  <td>
                    {i.product.name} <span className="sku">{i.product.sku}</span>
                  </td>
                  <td className="num">
                    {i.quantity} × {formatMoney(i.unitPrice)}
                  </td>
                  <td className="num">{formatMoney(i.lineTotal)}</td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <td colSpan={2}>Total</td>
                <td className="num total">{formatMoney(order.totalAmount)}</td>
              </tr>
            </tfoot>
          </table>
        </div>
        <div className="card">
          <h2>Ship to</h2>
          <address>
            {order.shippingAddress.name}
            <br />
            {order.shippingAddress.line1}
            <br />
            {order.shippingAddress.line2 && (
              <>
                {order.shippingAddress.line2}
                <br />
              </>
            )}
            {order.shippingAddress.postalCode} {order.shippingAddress.city}
            <br />
            {order.shippingAddress.country}
          </address>
          <div className="muted small">Placed {formatDateTime(order.createdAt)}</div>
        </div>
      </div>
    </section>
  );
}
