import { useApolloClient, useQuery } from '@apollo/client/react';
import { useDeferredValue, useState, type FormEvent } from 'react';
import { OPERATOR_ORDERS, PRODUCT_CHOICES } from '../graphql/operator.ts';
import type { OperatorOrderRowFragment, OrderFilter, OrderStatus, PageInfoFieldsFragment } from '../gql/graphql.ts';
import { Empty, ErrorBanner, StatusBadge, errorMessage, statusLabel } from '../components/ui.tsx';
import { formatMoney, formatShortDateTime } from '../lib/format.ts';
import { href, navigate } from '../lib/router.ts';

const PAGE_SIZE = 20;

const STATUSES: OrderStatus[] = [
  'PENDING_PAYMENT',
  'PENDING_SHIPMENT',
  'SHIPPED',
  'IN_TRANSIT',
  'DELIVERED',
  'CANCELLED',
  'PAYMENT_FAILED',
];

/**
 * The search lives in the route's query string (#/operator/orders?email=…),
 * so the back button from an order returns to the same results, and a search
 * can be bookmarked or sent to a colleague.
 */
export interface OrderSearch {
  status: OrderStatus[];
  email: string;
  /** datetime-local values (the browser's time zone), as typed. */
  from: string;
  to: string;
  productId: string;
  /** What the operator picked, to show it again ("Walnut desk lamp (LAMP-1)"). */
  product: string;
}

export function searchFromQuery(query: URLSearchParams): OrderSearch {
  return {
    status: (query.get('status') ?? '').split(',').filter((s): s is OrderStatus => (STATUSES as string[]).includes(s)),
    email: query.get('email') ?? '',
    from: query.get('from') ?? '',
    to: query.get('to') ?? '',
    productId: query.get('productId') ?? '',
    product: query.get('product') ?? '',
  };
}

function searchToQuery(search: OrderSearch): string {
  const q = new URLSearchParams();
  if (search.status.length) q.set('status', search.status.join(','));
  for (const key of ['email', 'from', 'to', 'productId', 'product'] as const) if (search[key]) q.set(key, search[key]);
  return q.toString();
}

const toIso = (local: string) => (local ? new Date(local).toISOString() : null);

function filterOf(search: OrderSearch): OrderFilter {
  return {
    status: search.status.length ? search.status : null,
    customerEmail: search.email.trim() || null,
    createdAfter: toIso(search.from),
    createdBefore: toIso(search.to),
    productId: search.productId || null,
  };
}

const productLabel = (p: { name: string; sku: string }) => `${p.name} (${p.sku})`;

function SearchForm({ initial, onSearch }: { initial: OrderSearch; onSearch: (search: OrderSearch) => void }) {
  const [search, setSearch] = useState(initial);
  const [productText, setProductText] = useState(initial.product);
  const [problem, setProblem] = useState<string | null>(null);
  const typed = useDeferredValue(productText.trim());
  const choices = useQuery(PRODUCT_CHOICES, {
    // The label of the picked product searches for its name only.
    variables: { search: typed.replace(/ \([^)]*\)$/, '') || null },
    skip: !typed,
    fetchPolicy: 'cache-first',
  });
  const products = (choices.data ?? choices.previousData)?.products.edges.map((e) => e.node) ?? [];

  function toggle(status: OrderStatus) {
    setSearch((s) => ({
      ...s,
      status: s.status.includes(status) ? s.status.filter((x) => x !== status) : [...s.status, status],
    }));
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    let { productId, product } = search;
    const text = productText.trim();
    if (!text) {
      productId = '';
      product = '';
    } else if (text !== product) {
      const match = products.find((p) => productLabel(p) === text) ?? (products.length === 1 ? products[0] : null);
      if (!match) {
        setProblem('Pick the product from the list that appears as you type its name or SKU.');
        return;
      }
      productId = match.id;
      product = productLabel(match);
      setProductText(product);
    }
    if (search.from && search.to && new Date(search.from) > new Date(search.to)) {
      setProblem('"Created from" must be before "created until".');
      return;
    }
    setProblem(null);
    onSearch({ ...search, productId, product });
  }

  function clear() {
    setSearch(searchFromQuery(new URLSearchParams()));
    setProductText('');
    setProblem(null);
    onSearch(searchFromQuery(new URLSearchParams()));
  }

  return (
    <form className="order-search" onSubmit={submit} data-testid="order-search">
      <fieldset className="status-filter">
        <legend>Status</legend>
        {STATUSES.map((s) => (
          <label key={s} className={`chip${search.status.includes(s) ? ' on' : ''}`}>
            <input
              type="checkbox"
              name="status"
              value={s}
              checked={search.status.includes(s)}
              onChange={() => toggle(s)}
            />
            {statusLabel(s)}
          </label>
        ))}
      </fieldset>
      <div className="search-fields">
        <label>
          Customer email
          <input
            type="email"
            name="email"
            placeholder="grace@example.com"
            value={search.email}
            onChange={(e) => setSearch({ ...search, email: e.target.value })}
          />
        </label>
        <label>
          Product
          <input
            type="search"
            name="product"
            list="product-choices"
            placeholder="Name or SKU"
            value={productText}
            onChange={(e) => setProductText(e.target.value)}
            autoComplete="off"
          />
          <datalist id="product-choices">
            {products.map((p) => (
              <option key={p.id} value={productLabel(p)} />
            ))}
          </datalist>
        </label>
        <label>
          Created from
          <input
            type="datetime-local"
            name="from"
            value={search.from}
            onChange={(e) => setSearch({ ...search, from: e.target.value })}
          />
        </label>
        <label>
          Created until
          <input
            type="datetime-local"
            name="to"
            value={search.to}
            onChange={(e) => setSearch({ ...search, to: e.target.value })}
          />
        </label>
      </div>
      {problem && <ErrorBanner>{problem}</ErrorBanner>}
      <div className="search-actions">
        <button type="submit" className="primary">
          Find orders
        </button>
        <button type="button" onClick={clear}>
          Clear
        </button>
      </div>
    </form>
  );
}

interface Page {
  rows: OperatorOrderRowFragment[];
  pageInfo: PageInfoFieldsFragment;
}

function Results({ search }: { search: OrderSearch }) {
  const client = useApolloClient();
  const filter = filterOf(search);
  const first = useQuery(OPERATOR_ORDERS, {
    variables: { filter, first: PAGE_SIZE },
    fetchPolicy: 'network-only',
  });
  // Pages after the first, fetched by "Load more" with the last cursor; a new search remounts this list.
  const [more, setMore] = useState<Page[]>([]);
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<string | null>(null);

  const connection = first.data?.orders;
  if (first.loading && !connection) return <p className="muted">Searching…</p>;
  if (!connection) return <ErrorBanner error={first.error ?? 'No answer'} />;

  const rows = [...connection.edges.map((e) => e.node), ...more.flatMap((p) => p.rows)];
  const pageInfo = more.length ? more[more.length - 1].pageInfo : connection.pageInfo;

  async function loadMore() {
    if (!pageInfo.endCursor) return;
    setLoadingMore(true);
    setMoreError(null);
    try {
      const res = await client.query({
        query: OPERATOR_ORDERS,
        variables: { filter, first: PAGE_SIZE, after: pageInfo.endCursor },
        fetchPolicy: 'network-only',
      });
      const next = res.data?.orders;
      if (next) setMore((m) => [...m, { rows: next.edges.map((e) => e.node), pageInfo: next.pageInfo }]);
    } catch (err) {
      setMoreError(errorMessage(err));
    } finally {
      setLoadingMore(false);
    }
  }

  if (rows.length === 0) return <Empty>No order matches this search.</Empty>;
  // The server counts exactly up to 10,000 and answers 10,001 beyond.
  const total = connection.totalCount;
  const matches =
    total === 1 ? '1 order matches' : total > 10_000 ? 'More than 10,000 orders match' : `${total} orders match`;
  return (
    <>
      <p className="muted small" data-testid="order-count">
        {matches}, newest first
        {rows.length < total ? ` · showing ${rows.length}` : ''}
      </p>
      <table className="table" data-testid="order-results">
        <thead>
          <tr>
            <th>Order</th>
            <th>Placed</th>
            <th>Customer</th>
            <th>Items</th>
            <th className="num">Total</th>
            <th>Status</th>
            <th>Shipment</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((o) => (
            <tr key={o.id} data-order-id={o.id}>
              <td>
                <a href={href(`/operator/orders/${o.id}`)} className="mono" data-testid="order-link">
                  {o.id.slice(0, 8)}…
                </a>
              </td>
              <td className="nowrap" title={o.createdAt}>
                {formatShortDateTime(o.createdAt)}
              </td>
              <td className="small" title={`Customer ${o.customerId}`} data-testid="order-customer">
                {o.customerEmail ?? <span className="mono">{o.customerId.slice(0, 8)}…</span>}
              </td>
              <td>{o.items.map((i) => `${i.quantity} × ${i.product.name}`).join(', ')}</td>
              <td className="num">{formatMoney(o.totalAmount)}</td>
              <td>
                <StatusBadge status={o.status} />
              </td>
              <td>{o.shipment ? <StatusBadge status={o.shipment.status} /> : <span className="muted">—</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {moreError && <ErrorBanner>{moreError}</ErrorBanner>}
      {pageInfo.hasNextPage && (
        <div className="pager">
          <button type="button" onClick={loadMore} disabled={loadingMore} data-testid="load-more">
            {loadingMore ? 'Loading…' : 'Load more'}
          </button>
        </div>
      )}
    </>
  );
}

/** The query string of the search last shown, for the ways back to it (the Orders tab, the order page's link). */
let lastSearch = '';
export const rememberSearch = (query: URLSearchParams) => {
  lastSearch = searchToQuery(searchFromQuery(query));
};
export const lastSearchPath = () => `/operator/orders${lastSearch ? `?${lastSearch}` : ''}`;

export function FindOrders({ query }: { query: URLSearchParams }) {
  const search = searchFromQuery(query);
  const key = searchToQuery(search);
  // Searching again for the same thing asks the server again.
  const [round, setRound] = useState(0);
  function onSearch(next: OrderSearch) {
    const nextKey = searchToQuery(next);
    if (nextKey === key) setRound((r) => r + 1);
    else navigate(`/operator/orders${nextKey ? `?${nextKey}` : ''}`);
  }
  return (
    <div className="card" data-testid="find-orders">
      <div className="card-head">
        <h2>Find orders</h2>
      </div>
      <SearchForm key={`form-${key}`} initial={search} onSearch={onSearch} />
      <Results key={`results-${key}-${round}`} search={search} />
    </div>
  );
}
