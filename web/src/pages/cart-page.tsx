import { useMutation, useQuery } from '@apollo/client/react';
import { useRef, useState, type FormEvent } from 'react';
import { PLACE_ORDER } from '../graphql/orders.ts';
import { CHECK_AVAILABILITY } from '../graphql/products.ts';
import type { AddressInput, ItemAvailabilityFieldsFragment, PlaceOrderMutation } from '../gql/graphql.ts';
import { Empty, ErrorBanner } from '../components/ui.tsx';
import { useCart, MAX_QUANTITY } from '../lib/cart.tsx';
import { customer } from '../lib/clients.ts';
import { formatCents, toCents } from '../lib/format.ts';
import { useTokens } from '../lib/orderflow-context.tsx';
import { href, navigate } from '../lib/router.ts';

/** The simulated card processor's test tokens (see PlaceOrderInput.paymentToken). */
const PAYMENT_TOKENS = [
  { value: 'tok_visa', label: 'Visa — succeeds' },
  { value: 'tok_chargeDeclined', label: 'Card declined — payment fails' },
  { value: 'tok_processingError', label: 'Processing error — fails twice, then succeeds' },
];

const ADDRESS_FIELDS: {
  name: keyof AddressInput;
  label: string;
  autoComplete: string;
  required: boolean;
  wide?: boolean;
}[] = [
  { name: 'name', label: 'Full name', autoComplete: 'name', required: true, wide: true },
  { name: 'line1', label: 'Address', autoComplete: 'address-line1', required: true, wide: true },
  { name: 'line2', label: 'Apartment, suite… (optional)', autoComplete: 'address-line2', required: false, wide: true },
  { name: 'city', label: 'City', autoComplete: 'address-level2', required: true },
  { name: 'postalCode', label: 'Postal code', autoComplete: 'postal-code', required: true },
  { name: 'country', label: 'Country code', autoComplete: 'country', required: true },
];

/**
 * A fresh idempotency key for each checkout. It is kept while the answer is
 * unknown (a network error: the retry must not order twice) and replaced
 * once the server has answered, since the next attempt is a new request.
 */
function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `web-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

const EMPTY_ADDRESS: AddressInput = { name: '', line1: '', line2: '', city: '', postalCode: '', country: '' };

type Outcome = Exclude<PlaceOrderMutation['placeOrder'], { __typename: 'OrderPlaced' }>;

export function CartPage() {
  const cart = useCart();
  const tokens = useTokens(customer.session);
  const [address, setAddress] = useState<AddressInput>(EMPTY_ADDRESS);
  const [paymentToken, setPaymentToken] = useState('tok_visa');
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const idempotencyKey = useRef(newIdempotencyKey());
  const [placeOrder, placing] = useMutation(PLACE_ORDER, { refetchQueries: ['CatalogProducts', 'MyOrders'] });

  const items = cart.lines.map((l) => ({ productId: l.productId, quantity: l.quantity }));
  const availability = useQuery(CHECK_AVAILABILITY, {
    variables: { items },
    skip: items.length === 0,
    pollInterval: 5_000,
  });
  const availabilityOf = new Map<string, ItemAvailabilityFieldsFragment>(
    availability.data?.checkAvailability.items.map((i) => [i.productId, i]) ?? [],
  );
  const currency = cart.lines[0]?.currencyCode ?? 'USD';
  const total = cart.lines.reduce((sum, l) => sum + toCents(l.unitPrice) * l.quantity, 0);
  const invalidField = outcome?.__typename === 'InvalidOrder' ? outcome.field : null;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setOutcome(null);
    const input = {
      idempotencyKey: idempotencyKey.current,
      items,
      shippingAddress: { ...address, line2: address.line2 || null, country: address.country.trim().toUpperCase() },
      paymentToken,
    };
    const result = await placeOrder({ variables: { input } }).catch(() => null);
    const answer = result?.data?.placeOrder;
    if (!answer) return; // placing.error says why; the same key is reused on retry
    idempotencyKey.current = newIdempotencyKey();
    if (answer.__typename === 'OrderPlaced') {
      cart.clear();
      navigate(`/orders/${answer.order.id}`);
    } else {
      setOutcome(answer);
    }
  }

  function applyAvailableQuantities(unavailable: ItemAvailabilityFieldsFragment[]) {
    for (const item of unavailable) {
      if (item.available <= 0) cart.remove(item.productId);
      else cart.setQuantity(item.productId, item.available);
    }
    setOutcome(null);
  }

  if (cart.lines.length === 0) {
    return (
      <section>
        <h1>Your cart</h1>
        <Empty>
          Your cart is empty. <a href={href('/')}>Browse the catalog</a>.
        </Empty>
      </section>
    );
  }

  return (
    <section>
      <h1>Checkout</h1>
      <div className="checkout">
        <div className="card">
          <h2>Items</h2>
          <table className="table" data-testid="cart-lines">
            <thead>
              <tr>
                <th>Product</th>
                <th className="num">Price</th>
                <th className="num">Quantity</th>
                <th className="num">Total</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {cart.lines.map((line, i) => {
                const a = availabilityOf.get(line.productId);
                const lineInvalid = invalidField?.startsWith(`items[${i}]`);
                return (
                  <tr key={line.productId} className={lineInvalid ? 'invalid' : undefined}>
                    <td>
                      <div>{line.name}</div>
                      <div className="sku">{line.sku}</div>
                      {a && !a.isAvailable && <div className="warn">Only {a.available} available now</div>}
                    </td>
                    <td className="num">{formatCents(toCents(line.unitPrice), line.currencyCode)}</td>
                    <td className="num">
                      <input
                        type="number"
                        className="qty"
                        min={1}
                        max={MAX_QUANTITY}
                        value={line.quantity}
                        aria-label={`Quantity of ${line.name}`}
                        onChange={(e) => cart.setQuantity(line.productId, Number(e.target.value))}
                      />
                    </td>
                    <td className="num">{formatCents(toCents(line.unitPrice) * line.quantity, line.currencyCode)}</td>
                    <td>
                      <button type="button" className="link" onClick={() => cart.remove(line.productId)}>
                        Remove
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
            <tfoot>
              <tr>
                <td colSpan={3}>Total</td>
                <td className="num total" data-testid="cart-total">
                  {formatCents(total, currency)}
                </td>
                <td />
              </tr>
            </tfoot>
          </table>
          <p className="muted small">
            Charged at the catalog price when you place the order. Availability is checked as you shop.
          </p>
        </div>

        <form className="card form" onSubmit={submit} data-testid="checkout-form">
          <h2>Shipping address</h2>
          <div className="address-grid">
            {ADDRESS_FIELDS.map((f) => (
              <label
                key={f.name}
                className={
                  [f.wide ? 'wide' : '', invalidField === `shippingAddress.${f.name}` ? 'invalid' : '']
                    .join(' ')
                    .trim() || undefined
                }
              >
                {f.label}
                <input
                  name={f.name}
                  value={address[f.name] ?? ''}
                  required={f.required}
                  autoComplete={f.autoComplete}
                  maxLength={f.name === 'country' ? 2 : 200}
                  placeholder={f.name === 'country' ? 'e.g. US' : undefined}
                  aria-invalid={invalidField === `shippingAddress.${f.name}` || undefined}
                  onChange={(e) => setAddress((a) => ({ ...a, [f.name]: e.target.value }))}
                />
              </label>
            ))}
          </div>
          <h2>Payment</h2>
          <label>
            Test card
            <select name="paymentToken" value={paymentToken} onChange={(e) => setPaymentToken(e.target.value)}>
              {PAYMENT_TOKENS.map((t) => (
                <option key={t.value} value={t.value}>
                  {t.label} ({t.value})
                </option>
              ))}
            </select>
            <span className="hint">Payments are simulated: no real card is charged.</span>
          </label>

          {outcome?.__typename === 'ProductsUnavailable' && (
            <div className="banner banner-error" role="alert" data-testid="outcome-unavailable">
              <strong>Not enough stock.</strong> {outcome.message}
              <ul>
                {outcome.unavailableItems.map((item) => (
                  <li key={item.productId}>
                    {cart.lines.find((l) => l.productId === item.productId)?.name ?? item.productId}: you asked for{' '}
                    {item.requested}, {item.available} available
                  </li>
                ))}
              </ul>
              <button type="button" onClick={() => applyAvailableQuantities(outcome.unavailableItems)}>
                Use the available quantities
              </button>
            </div>
          )}
          {outcome?.__typename === 'InvalidOrder' && (
            <div className="banner banner-error" role="alert" data-testid="outcome-invalid">
              <strong>Please check your order.</strong> {outcome.message}
              {outcome.field && <div className="muted">Field: {outcome.field}</div>}
            </div>
          )}
          <ErrorBanner error={placing.error} />

          {tokens ? (
            <button type="submit" className="primary big" disabled={placing.loading} data-testid="place-order">
              {placing.loading ? 'Placing your order…' : `Place order · ${formatCents(total, currency)}`}
            </button>
          ) : (
            <div className="banner">
              <a href={href('/login?next=/cart')}>Log in</a> or{' '}
              <a href={href('/signup?next=/cart')}>create an account</a> to place your order. Your cart is kept.
            </div>
          )}
        </form>
      </div>
    </section>
  );
}
