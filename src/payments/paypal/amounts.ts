import { decimalText } from '../../domain/shared/decimal.js';

/** PayPal writes amounts as decimal strings ("12.50"); we count in integer cents (two-decimal currencies). */
export function centsToPayPalValue(cents: number): string {
  return decimalText(cents);
}

/** Null when the value is not a plain non-negative amount with at most two decimals. */
export function payPalValueToCents(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const match = /^(\d{1,10})(?:\.(\d{1,2}))?$/.exec(value);
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] ?? '0').padEnd(2, '0'));
}
