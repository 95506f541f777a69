/** GraphQL over HTTP for the benchmarks: setup calls, and timed calls that classify their outcome. */

export interface GraphQLBody {
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: { code?: string; retryAfter?: number } }[];
}

/** A setup call: data, or an exception with the errors. */
export async function gql(
  gateway: string,
  query: string,
  variables: unknown,
  headers: Record<string, string> = {},
  timeoutMs = 60_000,
) {
  const res = await fetch(`${gateway}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await res.json()) as GraphQLBody;
  if (!res.ok || body.errors?.length)
    throw new Error(`HTTP ${res.status}: ${JSON.stringify(body.errors ?? body).slice(0, 500)}`);
  return body.data!;
}

export interface CallResult {
  /** HTTP status, null when there was no response (timeout, connection error). */
  status: number | null;
  /** `__typename` of the root field, `ok`, `error:<CODE>`, `http:<status>`, `timeout` or `network:<code>`. */
  outcome: string;
  body: GraphQLBody | null;
}

/**
 * One timed call: never throws, classifies the answer. `field` is the root
 * field whose `__typename` names the outcome (union results); without it a
 * response without errors is `ok`.
 */
export async function call(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  field?: string,
): Promise<CallResult> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let parsed: GraphQLBody | null = null;
    try {
      parsed = JSON.parse(text) as GraphQLBody;
    } catch {
      /* not JSON */
    }
    let outcome: string;
    if (parsed?.errors?.length) outcome = `error:${parsed.errors[0].extensions?.code ?? 'UNKNOWN'}`;
    else if (!res.ok || !parsed) outcome = `http:${res.status}`;
    else if (field)
      outcome =
        (parsed.data?.[field]?.__typename as string | undefined) ?? (parsed.data?.[field] === null ? 'null' : 'ok');
    else outcome = 'ok';
    return { status: res.status, outcome, body: parsed };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const outcome =
      e.name === 'TimeoutError' || e.name === 'AbortError' ? 'timeout' : `network:${e.cause?.code ?? e.message}`;
    return { status: null, outcome, body: null };
  }
}

const CREATE_PRODUCT = `mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }`;

/** Products created through the gateway as an operator, with stock that does not run out during a run. */
export async function createProducts(
  gateway: string,
  operator: Record<string, string>,
  count: number,
  runId: string,
  random: () => number,
  { stock = 1_000_000, concurrency = 8 } = {},
): Promise<string[]> {
  const ids: string[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const cents = 100 + Math.floor(random() * 9900);
      const input = {
        sku: `BENCH-${runId}-${String(i).padStart(5, '0')}`,
        name: `Bench product ${i}`,
        price: (cents / 100).toFixed(2),
        initialStock: stock,
      };
      ids[i] = (await gql(gateway, CREATE_PRODUCT, { input }, operator)).createProduct.id;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return ids;
}

/** What a client asks for after placing an order (the selection of test/support/system.ts). */
export const PLACE_ORDER = `mutation($input: PlaceOrderInput!) {
  placeOrder(input: $input) {
    __typename
    ... on OrderPlaced { order { id status customerId totalAmount { amount currencyCode } items { productId quantity unitPrice { amount } lineTotal { amount } } statusHistory { previousStatus status } } }
    ... on ProductsUnavailable { message unavailableItems { productId requested available isAvailable } }
    ... on InvalidOrder { message field }
  }
}`;

export const ADDRESS = {
  name: 'Ada Lovelace',
  line1: '12 St James Sq',
  city: 'London',
  postalCode: 'SW1Y 4JH',
  country: 'GB',
};

/** A placeOrder input of 1–`maxLines` distinct products, 1–3 units each. */
export function orderInput(
  productIds: string[],
  random: () => number,
  idempotencyKey: string,
  { maxLines = 5, paymentToken = 'tok_visa' } = {},
) {
  const lines = 1 + Math.floor(random() * maxLines);
  const picked = new Set<string>();
  while (picked.size < Math.min(lines, productIds.length))
    picked.add(productIds[Math.floor(random() * productIds.length)]);
  const items = [...picked].map((productId) => ({ productId, quantity: 1 + Math.floor(random() * 3) }));
  return { idempotencyKey, items, shippingAddress: ADDRESS, paymentToken };
}

/** The order page: the federated read of the suite (orders → products and shipments). */
export const ORDER_DETAIL = `query OrderDetail($id: ID!) {
  order(id: $id) {
    id status createdAt totalAmount { amount currencyCode }
    items { quantity unitPrice { amount } product { id name price { amount } availableQuantity } }
    shipment { id carrier trackingNumber status }
  }
}`;

export const PRODUCT_PAGE = `query ProductPage($id: ID!) { product(id: $id) { id sku name description price { amount currencyCode } availableQuantity isActive } }`;

export const MY_ORDERS = `query MyOrders { myOrders(first: 10) { totalCount edges { node { id status createdAt totalAmount { amount } } } } }`;

export const UPDATE_SHIPMENT = `mutation($input: UpdateShipmentStatusInput!) { updateShipmentStatus(input: $input) { id status } }`;
