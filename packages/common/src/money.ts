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
