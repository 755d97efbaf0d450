import { centsToPayPalValue, payPalValueToCents } from '../amounts.js';

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
export const toCents = (value: string): number => payPalValueToCents(value) as number;
export const fromCents = centsToPayPalValue;

export const money = (currency: string, cents: number): Money => ({ currency_code: currency, value: fromCents(cents) });

/** A plausible PayPal fee (2.90 % + 0.35, rounded half up), never more than the amount itself. */
export function paypalFeeCents(grossCents: number): number {
  return Math.min(grossCents, Math.round((grossCents * 290) / 10_000) + 35);
}
