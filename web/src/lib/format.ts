// Display formatting: money in integer cents, dates in the browser's locale.

import type { MoneyFieldsFragment } from '../gql/graphql.ts';

/** "19.99" → 1999: money is added in integer cents, never in floats. */
export function toCents(amount: string): number {
  const [whole, fraction = ''] = amount.split('.');
  const sign = whole.startsWith('-') ? -1 : 1;
  return sign * (Math.abs(Number(whole)) * 100 + Number((fraction + '00').slice(0, 2)));
}

export function formatCents(cents: number, currencyCode = 'USD'): string {
  return new Intl.NumberFormat(undefined, { style: 'currency', currency: currencyCode }).format(cents / 100);
}

export const formatMoney = (money: MoneyFieldsFragment) => formatCents(toCents(money.amount), money.currencyCode);

export function formatDateTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** Date and time to the minute, for tables: "12/4/26, 11:50 PM" in en-US. */
export function formatShortDateTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' });
}
