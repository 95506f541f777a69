import { z } from 'zod';

/** Exact money: integer cents inside, "59.98" strings at the API. */
export interface Money {
  amount: string;
  currencyCode: string;
}

const DECIMAL = /^(0|[1-9]\d{0,8})(\.\d{1,2})?$/;

/** Parses a positive decimal string ("19.9", "20", "0.01") into cents; null when malformed. */
export function parseCents(amount: string): number | null {
  if (!DECIMAL.test(amount)) return null;
  const [whole, frac = ''] = amount.split('.');
  return Number(whole) * 100 + Number(frac.padEnd(2, '0'));
}

export function formatCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

export function money(cents: number, currencyCode = 'USD'): Money {
  return { amount: formatCents(cents), currencyCode };
}

/**
 * Money columns are PostgreSQL `integer`s of cents: nothing stored may exceed
 * 21474836.47. Prices and order totals are bounded far below it (and every
 * sum of them is computed in JS numbers, exact to 2^53), so no line, total,
 * payment or refund can overflow.
 */
export const MAX_STORABLE_CENTS = 2_147_483_647;

/**
 * Default largest price and largest order total, in cents: 999999.99, the
 * largest single card charge common payment providers accept (Stripe:
 * 999,999.99 USD). An order above it could not be charged at once anyway.
 */
export const DEFAULT_MAX_AMOUNT_CENTS = 99_999_999;

/** An environment variable holding a money bound in cents (minor units): 1 to 2147483647. */
export const amountLimitEnv = () =>
  z.coerce.number().int().min(1).max(MAX_STORABLE_CENTS).default(DEFAULT_MAX_AMOUNT_CENTS);
