import { createHash } from 'node:crypto';
import { formatCents, isTextWithin, isUuid } from '@orderflow/contracts';
import { ISO_COUNTRIES } from './countries.ts';

export interface AddressInput {
  name: string;
  line1: string;
  line2?: string | null;
  city: string;
  postalCode: string;
  country: string;
}

export interface PlaceOrderInput {
  idempotencyKey: string;
  items: { productId: string; quantity: number }[];
  shippingAddress: AddressInput;
  paymentToken: string;
}

export interface InvalidOrder {
  __typename: 'InvalidOrder';
  message: string;
  field: string | null;
}

export const LIMITS = { minLines: 1, maxLines: 50, minQuantity: 1, maxQuantity: 1000, minKey: 8, maxKey: 128 } as const;

export const invalidOrder = (field: string | null, message: string): InvalidOrder => ({
  __typename: 'InvalidOrder',
  field,
  message,
});

const ADDRESS_LIMITS: [keyof AddressInput, number, number][] = [
  ['name', 1, 200],
  ['line1', 1, 200],
  ['line2', 0, 200],
  ['city', 1, 100],
  ['postalCode', 1, 20],
];

/** Every rule a placeOrder input must pass before anything is reserved; null when valid. */
// eslint-disable-next-line no-control-regex -- control characters are what it refuses
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

export function validatePlaceOrder(input: PlaceOrderInput): InvalidOrder | null {
  const key = input.idempotencyKey;
  if (
    typeof key !== 'string' ||
    key.length < LIMITS.minKey ||
    key.length > LIMITS.maxKey ||
    CONTROL_CHARACTERS.test(key)
  )
    return invalidOrder(
      'idempotencyKey',
      `idempotencyKey must be ${LIMITS.minKey} to ${LIMITS.maxKey} printable characters`,
    );

  if (input.items.length < LIMITS.minLines || input.items.length > LIMITS.maxLines)
    return invalidOrder('items', `An order has ${LIMITS.minLines} to ${LIMITS.maxLines} lines`);
  const seen = new Set<string>();
  for (const [i, item] of input.items.entries()) {
    if (!isUuid(item.productId)) return invalidOrder(`items[${i}].productId`, 'productId is not a valid product id');
    const id = item.productId.toLowerCase();
    if (seen.has(id)) return invalidOrder(`items[${i}].productId`, 'A product may appear only once per order');
    seen.add(id);
    if (!Number.isInteger(item.quantity) || item.quantity < LIMITS.minQuantity || item.quantity > LIMITS.maxQuantity)
      return invalidOrder(
        `items[${i}].quantity`,
        `quantity must be an integer from ${LIMITS.minQuantity} to ${LIMITS.maxQuantity}`,
      );
  }

  const address = input.shippingAddress;
  for (const [field, min, max] of ADDRESS_LIMITS) {
    const value = address[field];
    if (min === 0 && value == null) continue;
    if (!isTextWithin(value, min, max))
      return invalidOrder(`shippingAddress.${field}`, `${field} must be ${min} to ${max} characters`);
  }
  if (!ISO_COUNTRIES.has(address.country))
    return invalidOrder('shippingAddress.country', 'country must be an ISO 3166-1 alpha-2 code, e.g. "US"');

  if (!isTextWithin(input.paymentToken, 1, 100))
    return invalidOrder('paymentToken', 'paymentToken must be 1 to 100 characters');
  return null;
}

/**
 * An order's total must not exceed `maxTotalCents` (MAX_ORDER_TOTAL_CENTS, default 999999.99): the money
 * columns hold at most 21474836.47, and one payment cannot charge more anyway. Prices are known only
 * once products has reserved them, so this runs after the reservation (which the caller then releases).
 */
export function checkOrderTotal(totalCents: number, maxTotalCents: number, currencyCode: string): InvalidOrder | null {
  if (totalCents <= maxTotalCents) return null;
  return invalidOrder(
    'items',
    `The order total ${formatCents(totalCents)} ${currencyCode} is over the maximum of ${formatCents(maxTotalCents)} ${currencyCode} per order`,
  );
}

/** Canonical request fingerprint: tells a retry from a different order under the same key. */
export function requestHash(input: PlaceOrderInput): string {
  const a = input.shippingAddress;
  const canonical = {
    items: [...input.items]
      .map((i) => [i.productId.toLowerCase(), i.quantity])
      .sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    address: [a.name, a.line1, a.line2 ?? null, a.city, a.postalCode, a.country],
    paymentToken: input.paymentToken,
  };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

/** Normalises ids to lower case so the same product is the same string everywhere. */
export function normalizeItems(items: PlaceOrderInput['items']) {
  return items.map((i) => ({ productId: i.productId.toLowerCase(), quantity: i.quantity }));
}
