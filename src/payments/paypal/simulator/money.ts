/** Amounts stay PayPal's strings on the wire and integer cents in arithmetic (every simulated currency has two decimals). */

const AMOUNT_VALUE = /^\d{1,10}(\.\d{2})?$/;
const CURRENCY_CODE = /^[A-Z]{3}$/;

export interface Money {
  currency_code: string;
  value: string;
}

export const isAmountValue = (value: unknown): value is string => typeof value === 'string' && AMOUNT_VALUE.test(value);
export const isCurrencyCode = (value: unknown): value is string => typeof value === 'string' && CURRENCY_CODE.test(value);

/** `value` must satisfy isAmountValue. */
export function toCents(value: string): number {
  const [whole, fraction = '00'] = value.split('.') as [string, string?];
  return Number(whole) * 100 + Number(fraction);
}

export function fromCents(cents: number): string {
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

export const money = (currency: string, cents: number): Money => ({ currency_code: currency, value: fromCents(cents) });

/** A plausible PayPal fee (2.90 % + 0.35, rounded half up), never more than the amount itself. */
export function paypalFeeCents(grossCents: number): number {
  return Math.min(grossCents, Math.round((grossCents * 290) / 10_000) + 35);
}
