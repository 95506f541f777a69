// Demo catalog for `npm start`: created once, through the public gateway, so
// it exercises the same path (OAuth token, validation, events) as a real client.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

interface SeedProduct {
  sku: string;
  name: string;
  description: string;
  price: string;
  initialStock: number;
  lowStockThreshold: number;
}

/**
 * A small catalog with varied prices and stock. The two products near 20
 * units are there on purpose: a few orders push them under their threshold,
 * which shows the low-stock events without any setup.
 */
export const DEMO_PRODUCTS: readonly SeedProduct[] = [
  {
    sku: 'COF-DRIP-01',
    name: 'Ceramic Pour-Over Coffee Dripper',
    description: 'Hand-glazed porcelain dripper for size 02 filters.',
    price: '24.99',
    initialStock: 180,
    lowStockThreshold: 10,
  },
  {
    sku: 'COF-PRESS-1L',
    name: 'Stainless Steel French Press, 1 L',
    description: 'Double-walled, keeps coffee hot for an hour.',
    price: '39.50',
    initialStock: 95,
    lowStockThreshold: 10,
  },
  {
    sku: 'COF-ETH-500',
    name: 'Organic Ethiopian Coffee Beans, 500 g',
    description: 'Yirgacheffe, light roast; notes of jasmine and lemon.',
    price: '16.75',
    initialStock: 420,
    lowStockThreshold: 10,
  },
  {
    sku: 'KIT-BOARD-SET',
    name: 'Bamboo Cutting Board Set',
    description: 'Three boards with juice grooves.',
    price: '29.00',
    initialStock: 140,
    lowStockThreshold: 5,
  },
  {
    sku: 'KIT-SKILLET-26',
    name: 'Cast Iron Skillet, 26 cm',
    description: 'Pre-seasoned, oven safe.',
    price: '44.90',
    initialStock: 22,
    lowStockThreshold: 10,
  },
  {
    sku: 'OUT-SOCKS-M2',
    name: 'Merino Wool Hiking Socks (2 pairs)',
    description: 'Cushioned sole, sizes 39-42.',
    price: '19.99',
    initialStock: 500,
    lowStockThreshold: 10,
  },
  {
    sku: 'OUT-BOTTLE-750',
    name: 'Insulated Water Bottle, 750 ml',
    description: 'Keeps drinks cold for 24 hours.',
    price: '27.50',
    initialStock: 310,
    lowStockThreshold: 10,
  },
  {
    sku: 'OUT-HEADLAMP',
    name: 'Rechargeable LED Headlamp',
    description: '350 lumens, USB-C charging.',
    price: '32.00',
    initialStock: 75,
    lowStockThreshold: 5,
  },
  {
    sku: 'DSK-MOUSE-ERG',
    name: 'Wireless Ergonomic Mouse',
    description: 'Vertical grip, silent clicks.',
    price: '34.99',
    initialStock: 20,
    lowStockThreshold: 10,
  },
  {
    sku: 'DSK-LAMP-LED',
    name: 'Adjustable LED Desk Lamp',
    description: 'Five colour temperatures, dimmable.',
    price: '49.00',
    initialStock: 60,
    lowStockThreshold: 5,
  },
  {
    sku: 'DSK-NOTEBOOK-A5',
    name: 'Dotted A5 Notebook',
    description: '192 numbered pages, lay-flat binding.',
    price: '12.50',
    initialStock: 260,
    lowStockThreshold: 10,
  },
  {
    sku: 'DSK-PEN-GEL3',
    name: 'Gel Pen Set (3 colours)',
    description: '0.5 mm, quick-drying ink.',
    price: '6.95',
    initialStock: 450,
    lowStockThreshold: 5,
  },
];

/** The operator that seeds: the contract's ops-console client. */
const OPERATOR_CLIENT_ID = 'ops-console';
const OPERATOR_DEV_SECRET = 'ops-console-dev-secret';

const COUNT_PRODUCTS = '{ products(first: 1) { totalCount } }';
const CREATE_PRODUCT = 'mutation($input: CreateProductInput!) { createProduct(input: $input) { id sku } }';

/** An access token of the operator client (RFC 6749 §4.4 client credentials, narrowed to what seeding needs). */
async function operatorToken(gatewayUrl: string, clientSecret: string): Promise<string> {
  const basic = Buffer.from(`${OPERATOR_CLIENT_ID}:${encodeURIComponent(clientSecret)}`).toString('base64');
  const res = await fetch(new URL('/oauth/token', gatewayUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'products:write' }).toString(),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json().catch(() => ({}))) as { access_token?: string; error?: string };
  if (!res.ok || !body.access_token)
    throw new Error(`no operator token from /oauth/token: HTTP ${res.status} ${body.error ?? ''}`.trim());
  return body.access_token;
}

async function graphql<T>(
  endpoint: URL,
  token: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json().catch(() => ({}))) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length || !body.data) {
    const detail = body.errors?.map((e) => e.message).join('; ') ?? `HTTP ${res.status}`;
    throw new Error(`GraphQL request failed: ${detail}`);
  }
  return body.data;
}

/**
 * Creates the demo catalog through the gateway when the catalog is empty,
 * so a restart (or a catalog of your own) is left alone.
 *
 * @param gatewayUrl The gateway's base URL (`http://127.0.0.1:4000`); its `/graphql` and `/oauth/token` endpoints are used.
 * @param options.clientSecret The ops-console client's secret. Default: its development secret.
 * @returns How many products were created (0 when the catalog already had some) and the catalog size before.
 */
export async function seedCatalog(
  gatewayUrl: string,
  { clientSecret = OPERATOR_DEV_SECRET }: { clientSecret?: string } = {},
): Promise<{ created: number; existing: number }> {
  const endpoint = new URL('/graphql', gatewayUrl);
  const token = await operatorToken(gatewayUrl, clientSecret);
  const { products } = await graphql<{ products: { totalCount: number } }>(endpoint, token, COUNT_PRODUCTS);
  if (products.totalCount > 0) return { created: 0, existing: products.totalCount };
  // One at a time, so the catalog's "newest first" order is the list's reverse order.
  for (const input of DEMO_PRODUCTS) await graphql(endpoint, token, CREATE_PRODUCT, { input });
  return { created: DEMO_PRODUCTS.length, existing: 0 };
}

/** `npm run seed`: the demo catalog on a running system (npm start), through its gateway. */
async function main() {
  const gatewayUrl = process.env.GATEWAY_URL || `http://127.0.0.1:${process.env.GATEWAY_PORT || 4000}`;
  try {
    const { created, existing } = await seedCatalog(gatewayUrl, {
      clientSecret: process.env.OPS_CONSOLE_CLIENT_SECRET || undefined,
    });
    console.log(created ? `demo catalog seeded: ${created} products` : `catalog has ${existing} products: not seeding`);
  } catch (err) {
    const reason = (err as Error).cause
      ? `${(err as Error).message}: ${String((err as Error).cause)}`
      : (err as Error).message;
    console.error(
      `seeding through ${gatewayUrl} failed (is npm start running? GATEWAY_URL names another gateway): ${reason}`,
    );
    process.exitCode = 1;
  }
}

// Run only as a program: npm start imports seedCatalog.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main();
