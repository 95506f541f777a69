import { useQuery } from '@apollo/client/react';
import { MY_ORDERS, MY_ORDER_UPDATES } from '../graphql/orders.ts';
import { Empty, ErrorBanner, LiveIndicator, StatusBadge } from '../components/ui.tsx';
import { useLiveSubscription } from '../lib/live-subscription.ts';
import { formatDateTime, formatMoney } from '../lib/format.ts';
import { href } from '../lib/router.ts';

export function OrdersPage() {
  const { data, loading, error, refetch } = useQuery(MY_ORDERS, {
    variables: { first: 50 },
    fetchPolicy: 'cache-and-network',
  });
  const orders = data?.myOrders.edges.map((e) => e.node) ?? [];

  // Each update's `order { id status }` lands in the cache, which re-renders
  // the list; an order this list has not seen (placed elsewhere) refetches it.
  const live = useLiveSubscription(MY_ORDER_UPDATES, {
    variables: {},
    onData({ myOrderUpdates }) {
      if (!orders.some((o) => o.id === myOrderUpdates.orderId)) void refetch();
    },
  });

  return (
    <section>
      <div className="page-head">
        <div>
          <h1>My orders</h1>
          <p className="muted">Statuses update by themselves as your orders move.</p>
        </div>
        <LiveIndicator status={live.status} />
      </div>
      <ErrorBanner error={error} />
      {loading && !data && <Empty>Loading your orders…</Empty>}
      {data && orders.length === 0 && (
        <Empty>
          No orders yet. <a href={href('/')}>Start shopping</a>.
        </Empty>
      )}
      {orders.length > 0 && (
        <div className="card">
          <table className="table orders" data-testid="my-orders">
            <thead>
              <tr>
                <th>Order</th>
                <th>Placed</th>
                <th>Items</th>
                <th className="num">Total</th>
                <th>Status</th>
              </tr>
            </thead>
            <tbody>
              {orders.map((o) => (
                <tr key={o.id} data-order-id={o.id}>
                  <td>
                    <a href={href(`/orders/${o.id}`)} className="mono">
                      {o.id.slice(0, 8)}…
                    </a>
                  </td>
                  <td>{formatDateTime(o.createdAt)}</td>
                  <td>{o.items.map((i) => `${i.quantity} × ${i.product.name}`).join(', ')}</td>
                  <td className="num">{formatMoney(o.totalAmount)}</td>
                  <td>
                    <StatusBadge status={o.status} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
