import { useQuery } from '@apollo/client/react';
import { useEffect, useState } from 'react';
import { CATALOG_PRODUCTS } from '../graphql/products.ts';
import type { CatalogProductFragment } from '../gql/graphql.ts';
import { Empty, ErrorBanner } from '../components/ui.tsx';
import { useCart } from '../lib/cart.tsx';
import { formatMoney } from '../lib/format.ts';

const PAGE_SIZE = 12;
/** How often the shown stock is refreshed; the contract has no stock subscription for customers. */
const STOCK_REFRESH_MS = 5_000;

function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return debounced;
}

function StockLabel({ product }: { product: CatalogProductFragment }) {
  const n = product.availableQuantity;
  if (n <= 0) return <span className="stock stock-out">Out of stock</span>;
  if (n <= product.lowStockThreshold) return <span className="stock stock-low">Only {n} left</span>;
  return <span className="stock stock-ok">{n} in stock</span>;
}

function ProductCard({ product }: { product: CatalogProductFragment }) {
  const cart = useCart();
  const [quantity, setQuantity] = useState(1);
  const [added, setAdded] = useState(false);
  const inCart = cart.lines.find((l) => l.productId === product.id)?.quantity ?? 0;
  const soldOut = product.availableQuantity <= 0;

  function add() {
    cart.add(
      {
        productId: product.id,
        name: product.name,
        sku: product.sku,
        unitPrice: product.price.amount,
        currencyCode: product.price.currencyCode,
      },
      quantity,
    );
    setAdded(true);
    setTimeout(() => setAdded(false), 1500);
  }

  return (
    <article className="card product" data-testid="product-card" data-product-id={product.id}>
      <div className="product-head">
        <h3>{product.name}</h3>
        <span className="price">{formatMoney(product.price)}</span>
      </div>
      <div className="sku">{product.sku}</div>
      {product.description && <p className="description">{product.description}</p>}
      <div className="product-foot">
        <div data-testid="available-quantity" data-value={product.availableQuantity}>
          <StockLabel product={product} />
        </div>
        <div className="add">
          <input
            type="number"
            aria-label={`Quantity of ${product.name}`}
            min={1}
            max={Math.max(1, product.availableQuantity)}
            value={quantity}
            onChange={(e) => setQuantity(Math.max(1, Number(e.target.value) || 1))}
            disabled={soldOut}
          />
          <button type="button" className="primary" onClick={add} disabled={soldOut}>
            {added ? 'Added ✓' : 'Add to cart'}
          </button>
        </div>
      </div>
      {inCart > 0 && <div className="in-cart">{inCart} in your cart</div>}
    </article>
  );
}

export function CatalogPage() {
  const [search, setSearch] = useState('');
  const term = useDebounced(search.trim(), 300);
  // A stack of cursors: page n starts after cursors[n - 1].
  const [cursors, setCursors] = useState<string[]>([]);
  useEffect(() => setCursors([]), [term]);
  const after = cursors.at(-1) ?? null;

  const { data, previousData, loading, error } = useQuery(CATALOG_PRODUCTS, {
    variables: { first: PAGE_SIZE, after, search: term || null },
    fetchPolicy: 'cache-and-network',
    pollInterval: STOCK_REFRESH_MS,
    notifyOnNetworkStatusChange: false,
  });
  const products = (data ?? previousData)?.products;

  return (
    <section>
      <div className="page-head">
        <div>
          <h1>Catalog</h1>
          <p className="muted">Stock shown is what can be ordered now; it refreshes every few seconds.</p>
        </div>
        <input
          className="search"
          type="search"
          placeholder="Search by name or SKU…"
          aria-label="Search products"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
      </div>
      <ErrorBanner error={error && !products ? error : undefined} />
      {!products && loading && <Empty>Loading the catalog…</Empty>}
      {products && products.edges.length === 0 && (
        <Empty>{term ? `No product matches “${term}”.` : 'The catalog is empty.'}</Empty>
      )}
      {products && products.edges.length > 0 && (
        <>
          <div className="grid">
            {products.edges.map(({ node }) => (
              <ProductCard key={node.id} product={node} />
            ))}
          </div>
          <div className="pager">
            <button type="button" onClick={() => setCursors((c) => c.slice(0, -1))} disabled={cursors.length === 0}>
              ← Previous
            </button>
            <span className="muted">
              Page {cursors.length + 1} · {products.totalCount} products
            </span>
            <button
              type="button"
              onClick={() => products.pageInfo.endCursor && setCursors((c) => [...c, products.pageInfo.endCursor!])}
              disabled={!products.pageInfo.hasNextPage}
            >
              Next →
            </button>
          </div>
        </>
      )}
    </section>
  );
}
