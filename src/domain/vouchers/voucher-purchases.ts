import type { Hundredths } from '../ledger/ledger.js';
import { vatIncluded, type Cents, type PriceSettings } from '../pricing/pricing.js';
import { addDays, type DayKey } from '../time/calendar.js';
import { checkBatchFields, VoucherBatchError, type BatchField, type BatchProblem, type VoucherBatchRequest } from './voucher-batches.js';

/** The most codes one purchase holds: a department's year, still one PDF sheet a secretary can print. */
export const PURCHASE_MAX_COUNT = 1_000;
/** The most one purchase costs: 5,000.00, under PayPal's usual limit for one payment. */
export const PURCHASE_MAX_CENTS: Cents = 500_000;
/** A bought code stays valid at least this long: a payment confirmed late still leaves its codes time to be used. */
export const PURCHASE_MIN_DAYS = 30;

export type PurchaseRequest = Omit<VoucherBatchRequest, 'format'>;

/** What a batch costs and carries: each code's units at the base rate (no bonus), VAT included. */
export interface PurchaseQuote {
  currency: PriceSettings['currency'];
  priceCents: Cents;
  netCents: Cents;
  vatCents: Cents;
  vatRateBasisPoints: number;
  /** Every code's units together: what the capture moves to `system:vouchers`. */
  units: Hundredths;
}

/** A whole number of units times a whole number of cents per unit is always whole cents. */
const codePriceCents = (value: Hundredths, settings: PriceSettings): Cents => (value / 100) * settings.unitPriceCents;

/**
 * The purchase form as typed, checked whole like an admin's batch, and more narrowly: whole units per
 * code (so every code costs whole cents), at most PURCHASE_MAX_COUNT codes and PURCHASE_MAX_CENTS in
 * all, valid PURCHASE_MIN_DAYS days at least.
 */
export function checkPurchaseRequest(input: Record<string, unknown>, today: DayKey, settings: PriceSettings): { request: PurchaseRequest; quote: PurchaseQuote } {
  const problems: Partial<Record<BatchField, BatchProblem>> = {};
  const request = checkBatchFields(input, today, problems);
  if (!problems.count && request.count > PURCHASE_MAX_COUNT) problems.count = 'out_of_range';
  if (!problems.value && request.value % 100 !== 0) problems.value = 'invalid';
  if (!problems.expiresOn && request.expiresOn < addDays(today, PURCHASE_MIN_DAYS)) problems.expiresOn = 'too_soon';
  const quote = problems.count || problems.value ? null : purchaseQuote(request, settings);
  if (quote && quote.priceCents > PURCHASE_MAX_CENTS) problems.total = 'out_of_range';
  if (Object.keys(problems).length > 0 || !quote) throw new VoucherBatchError(problems);
  return { request, quote };
}

/** The price of `count` codes worth `value` each, at today's base rate. */
export function purchaseQuote({ count, value }: Pick<PurchaseRequest, 'count' | 'value'>, settings: PriceSettings): PurchaseQuote {
  const priceCents = count * codePriceCents(value, settings);
  return { currency: settings.currency, priceCents, ...vatIncluded(priceCents, settings.vatRateBasisPoints), vatRateBasisPoints: settings.vatRateBasisPoints, units: count * value };
}

/** Where a buyer finds their purchases and downloads their codes (linked from the receipt's mail). */
export const VOUCHER_PURCHASES_PATH = '/vouchers/purchases';
