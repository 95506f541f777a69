import { useMutation, useQuery } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { INVENTORY_PRODUCTS, LOW_STOCK_ALERTS, RESTOCK_PRODUCT } from '../graphql/products.ts';
import { OPERATOR_LOOKUP } from '../graphql/shipments.ts';
import type { InventoryProductFragment, LowStockAlertsSubscription } from '../gql/graphql.ts';
import { ShipmentCard } from '../components/shipment-card.tsx';
import { ShipmentMover } from '../components/shipment-mover.tsx';
import { Empty, ErrorBanner, LiveIndicator, StatusBadge, errorMessage } from '../components/ui.tsx';
import { OAuthError, operator, signInOperator, signOutOperator } from '../lib/clients.ts';
import { useLiveSubscription } from '../lib/live-subscription.ts';
import { formatDateTime, formatMoney } from '../lib/format.ts';
import { OrderflowProvider, useTokens } from '../lib/orderflow-context.tsx';
import { href, matchPath, routeQuery } from '../lib/router.ts';
import { Dashboard } from './operator-dashboard.tsx';
import { OperatorOrderPage } from './operator-order.tsx';
import { FindOrders, lastSearchPath, rememberSearch } from './operator-orders.tsx';

/** Development defaults of the contract's seeded operator client. */
const DEV_CLIENT_ID = 'ops-console';
const DEV_CLIENT_SECRET = 'ops-console-dev-secret';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function OperatorSignIn() {
  const [clientId, setClientId] = useState(DEV_CLIENT_ID);
  const [clientSecret, setClientSecret] = useState(DEV_CLIENT_SECRET);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signInOperator(clientId, clientSecret);
    } catch (err) {
      setError(err instanceof OAuthError ? err.message : errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="auth-card card">
      <h1>Operator console</h1>
      <p className="muted">
        Sign in as the OAuth client of the operations console (client credentials at /oauth/token).
      </p>
      <div className="banner banner-warn" data-testid="dev-secret-note">
        <strong>Development convenience.</strong> A client secret does not belong in a browser: in a real deployment
        operators sign in through an identity provider, and the console&apos;s secret stays on a server. The seeded
        development client is <code>{DEV_CLIENT_ID}</code> / <code>{DEV_CLIENT_SECRET}</code>.
      </div>
      <form className="form" onSubmit={submit} data-testid="operator-login">
        <label>
          Client id
          <input
            name="clientId"
            value={clientId}
            onChange={(e) => setClientId(e.target.value)}
            required
            autoComplete="username"
          />
        </label>
        <label>
          Client secret
          <input
            name="clientSecret"
            type="password"
            value={clientSecret}
            onChange={(e) => setClientSecret(e.target.value)}
            required
            autoComplete="current-password"
          />
        </label>
        {error && <ErrorBanner>{error}</ErrorBanner>}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in as operator'}
        </button>
      </form>
    </div>
  );
}

function ShipmentDesk() {
  const [input, setInput] = useState('');
  const [id, setId] = useState<string | null>(null);
  const lookup = useQuery(OPERATOR_LOOKUP, {
    variables: { id: id ?? '' },
    skip: !id,
    errorPolicy: 'all',
    fetchPolicy: 'network-only',
  });
  const order = lookup.data?.order ?? lookup.data?.shipment?.order ?? null;
  const shipment = lookup.data?.order?.shipment ?? lookup.data?.shipment ?? null;
  // A paid order gets its shipment a moment later: keep looking until it is there.
  const waiting = !!order && !shipment && (order.status === 'PENDING_PAYMENT' || order.status === 'PENDING_SHIPMENT');
  useQuery(OPERATOR_LOOKUP, {
    variables: { id: id ?? '' },
    skip: !id || !waiting,
    pollInterval: 2_000,
    errorPolicy: 'all',
    fetchPolicy: 'network-only',
  });
  const [formatError, setFormatError] = useState(false);

  function submit(e: FormEvent) {
    e.preventDefault();
    const value = input.trim();
    setFormatError(!!value && !UUID.test(value));
    setId(value && UUID.test(value) ? value : null);
  }

  return (
    <div className="card" data-testid="shipment-desk">
      <h2>Move a shipment</h2>
      <p className="muted small">Enter an order id or a shipment id (the customer&apos;s order page shows both).</p>
      <form className="inline-form" onSubmit={submit}>
        <input
          name="lookupId"
          placeholder="Order id or shipment id"
          value={input}
          onChange={(e) => setInput(e.target.value)}
          aria-label="Order id or shipment id"
        />
        <button type="submit" className="primary">
          Look up
        </button>
      </form>
      {formatError && <ErrorBanner>Order and shipment ids look like 3ec070e6-5fba-4d49-8f20-b0ebd3ec7f8e.</ErrorBanner>}
      {lookup.loading && !lookup.data && <p className="muted">Looking up…</p>}
      {id && lookup.data && !order && !shipment && (
        <ErrorBanner>{lookup.error ? errorMessage(lookup.error) : `No order or shipment with id ${id}.`}</ErrorBanner>
      )}
      {order && (
        <div className="lookup" data-testid="lookup-result">
          <div className="lookup-order">
            <span>
              Order{' '}
              <a href={href(`/operator/orders/${order.id}`)} className="mono">
                {order.id}
              </a>
            </span>
            <StatusBadge status={order.status} testId="operator-order-status" />
            <span className="muted">
              {formatMoney(order.totalAmount)} ·{' '}
              {order.items.map((i) => `${i.quantity} × ${i.product.name}`).join(', ')}
            </span>
          </div>
          {shipment ? (
            <>
              <ShipmentCard shipment={shipment} />
              <ShipmentMover shipment={shipment} onMoved={() => void lookup.refetch()} />
            </>
          ) : (
            <p className="muted">
              {waiting ? 'No shipment yet: waiting for payment and shipment creation…' : 'This order has no shipment.'}
            </p>
          )}
        </div>
      )}
    </div>
  );
}

function RestockRow({ product }: { product: InventoryProductFragment }) {
  const [quantity, setQuantity] = useState(10);
  const [restock, { loading, error }] = useMutation(RESTOCK_PRODUCT);
  const low = product.availableQuantity <= product.lowStockThreshold;
  return (
    <tr data-product-id={product.id} className={low ? 'low' : undefined}>
      <td>
        {product.name}
        <div className="sku">{product.sku}</div>
        {error && <div className="warn">{errorMessage(error)}</div>}
      </td>
      <td className="num">{formatMoney(product.price)}</td>
      <td className="num" data-testid="inventory-available">
        {product.availableQuantity}
      </td>
      <td className="num">{product.reservedQuantity}</td>
      <td className="num">{product.lowStockThreshold}</td>
      <td className="num restock">
        <input
          type="number"
          min={1}
          value={quantity}
          onChange={(e) => setQuantity(Math.max(1, Number(e.target.value) || 1))}
          aria-label={`Restock quantity of ${product.name}`}
        />
        <button
          type="button"
          disabled={loading}
          onClick={() =>
            void restock({
              variables: { productId: product.id, quantity, reason: 'Restocked from the operator console' },
            }).catch(() => null)
          }
        >
          Restock
        </button>
      </td>
    </tr>
  );
}

function Inventory() {
  const [search, setSearch] = useState('');
  const { data, previousData, error } = useQuery(INVENTORY_PRODUCTS, {
    variables: { first: 20, search: search.trim() || null },
    pollInterval: 5_000,
    fetchPolicy: 'cache-and-network',
  });
  const products = (data ?? previousData)?.products;
  return (
    <div className="card" data-testid="inventory">
      <div className="card-head">
        <h2>Inventory</h2>
        <input
          type="search"
          placeholder="Search products…"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          aria-label="Search inventory"
        />
      </div>
      <ErrorBanner error={error && !products ? error : undefined} />
      {products && (
        <table className="table">
          <thead>
            <tr>
              <th>Product</th>
              <th className="num">Price</th>
              <th className="num">Available</th>
              <th className="num">Reserved</th>
              <th className="num">Low at</th>
              <th className="num">Restock</th>
            </tr>
          </thead>
          <tbody>
            {products.edges.map(({ node }) => (
              <RestockRow key={node.id} product={node} />
            ))}
          </tbody>
        </table>
      )}
      {products && products.totalCount > products.edges.length && (
        <p className="muted small">
          Showing {products.edges.length} of {products.totalCount}: search to find others.
        </p>
      )}
    </div>
  );
}

const MAX_ALERTS = 50;

function LowStockFeed() {
  const [alerts, setAlerts] = useState<LowStockAlertsSubscription['lowStockAlerts'][]>([]);
  const live = useLiveSubscription(LOW_STOCK_ALERTS, {
    variables: {},
    onData: ({ lowStockAlerts }) => setAlerts((a) => [lowStockAlerts, ...a].slice(0, MAX_ALERTS)),
  });
  return (
    <div className="card" data-testid="low-stock-feed">
      <div className="card-head">
        <h2>Low-stock alerts</h2>
        <LiveIndicator status={live.status} />
      </div>
      {live.error && <ErrorBanner>{live.error}</ErrorBanner>}
      {alerts.length === 0 ? (
        <Empty>No alert since you opened this page. Alerts appear here the moment stock falls to its threshold.</Empty>
      ) : (
        <ul className="alerts">
          {alerts.map((a, i) => (
            <li key={`${a.product.id}-${a.occurredAt}-${i}`} className={a.availableQuantity === 0 ? 'out' : undefined}>
              <div>
                <strong>{a.product.name}</strong> <span className="sku">{a.product.sku}</span>
              </div>
              <div>
                {a.availableQuantity === 0 ? 'Out of stock' : `${a.availableQuantity} left`} (threshold {a.threshold})
              </div>
              <div className="muted small">{formatDateTime(a.occurredAt)}</div>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

type SectionId = 'dashboard' | 'orders' | 'stock';

const SECTIONS: { id: SectionId; path: string; label: string }[] = [
  { id: 'dashboard', path: '/operator', label: 'Dashboard' },
  { id: 'orders', path: '/operator/orders', label: 'Orders' },
  { id: 'stock', path: '/operator/stock', label: 'Stock and shipments' },
];

/**
 * The console's own routes, under #/operator: the dashboard, the order
 * search (#/operator/orders?email=…), one order (#/operator/orders/<id>),
 * and stock with the shipment look-up by id.
 */
function Section({ route, query }: { route: string; query: URLSearchParams }) {
  const order = matchPath('/operator/orders/:id', route);
  if (order) return <OperatorOrderPage key={order.id} id={order.id} />;
  if (route === '/operator/orders') return <FindOrders query={query} />;
  if (route === '/operator/stock')
    return (
      <>
        <ShipmentDesk />
        <Inventory />
      </>
    );
  return <Dashboard />;
}

function Console({ path }: { path: string }) {
  const tokens = useTokens(operator.session);
  if (!tokens) return <OperatorSignIn />;
  const route = path.split('?')[0].replace(/\/+$/, '') || '/operator';
  // Before the tabs render: the Orders tab leads back to the search last shown.
  if (route === '/operator/orders') rememberSearch(routeQuery(path));
  const current: SectionId = route.startsWith('/operator/orders')
    ? 'orders'
    : route === '/operator/stock'
      ? 'stock'
      : 'dashboard';
  return (
    <section data-testid="operator-console">
      <div className="page-head">
        <div>
          <h1>Operator console</h1>
          <p className="muted">
            Signed in as <code>{tokens.label}</code> · token valid until{' '}
            {new Date(tokens.expiresAt).toLocaleTimeString()}
          </p>
        </div>
        <button type="button" onClick={signOutOperator}>
          Sign out
        </button>
      </div>
      <nav className="tabs" aria-label="Console sections">
        {SECTIONS.map((s) => (
          <a
            key={s.id}
            href={href(s.id === 'orders' ? lastSearchPath() : s.path)}
            className={s.id === current ? 'active' : undefined}
            aria-current={s.id === current ? 'page' : undefined}
            data-testid={`tab-${s.id}`}
          >
            {s.label}
          </a>
        ))}
      </nav>
      {/* The orders' tables and timeline take the whole width; the feed stays mounted (hidden), so it keeps its alerts. */}
      <div className={current === 'orders' ? 'operator-grid wide' : 'operator-grid'}>
        <div className="stack">
          <Section route={route} query={routeQuery(path)} />
        </div>
        <LowStockFeed />
      </div>
    </section>
  );
}

/** The operator page talks with its own client: its own token, cache and socket, apart from any customer signed in on this browser. */
export function OperatorPage({ path }: { path: string }) {
  return (
    <OrderflowProvider client={operator}>
      <Console path={path} />
    </OrderflowProvider>
  );
}
