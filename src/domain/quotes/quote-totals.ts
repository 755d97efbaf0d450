import { DomainError } from '../shared/errors.js';
import { vatIncluded, type Cents } from '../pricing/pricing.js';

/** One line of a quote: what is made, how many, at what price (VAT included) and VAT rate. */
export interface QuoteLine {
  description: string;
  quantity: number;
  /** Price of one, VAT included, in cents of the quote's currency. */
  unitPriceCents: Cents;
  /** 2000 is 20 %; printing and binding may be taxed at different rates. */
  vatRateBasisPoints: number;
}

export const MAX_QUANTITY = 100_000;
export const MAX_UNIT_PRICE_CENTS = 10_000_000;
export const MAX_VAT_RATE_BASIS_POINTS = 5_000;
export const MAX_QUOTE_LINES = 30;
/**
 * The most a quote may total. Far above any print job, and low enough that vatIncluded's integer
 * arithmetic (2 × price × 10 000) stays exact in a double: lines alone could reach 3 × 10¹³ cents.
 */
export const MAX_QUOTE_TOTAL_CENTS = 10_000_000_000;

/** The VAT of one rate: computed once on the sum of that rate's lines, as the basket shows it. */
export interface VatBreakdown {
  vatRateBasisPoints: number;
  grossCents: Cents;
  netCents: Cents;
  vatCents: Cents;
}

export interface QuoteTotals {
  lines: Array<QuoteLine & { totalCents: Cents }>;
  /** One row per rate, from the highest rate down. */
  vatRates: VatBreakdown[];
  netCents: Cents;
  vatCents: Cents;
  totalCents: Cents;
}

export class QuoteTotalError extends DomainError<'total_too_large'> {}

/**
 * Line total = quantity × unit price. VAT is computed per rate on the summed gross of that rate's
 * lines, by the top-ups' rule (the net rounded half up, VAT what remains), so net + VAT is exactly the
 * gross of each rate, and their sums exactly the quote's total, whatever the order of the lines.
 */
export function quoteTotals(lines: readonly QuoteLine[]): QuoteTotals {
  const withTotals = lines.map((line) => ({ ...line, totalCents: line.quantity * line.unitPriceCents }));
  const totalCents = withTotals.reduce((sum, line) => sum + line.totalCents, 0);
  if (totalCents > MAX_QUOTE_TOTAL_CENTS) throw new QuoteTotalError('total_too_large', `a quote totals at most ${MAX_QUOTE_TOTAL_CENTS} cents`);
  const grossByRate = new Map<number, Cents>();
  for (const line of withTotals) grossByRate.set(line.vatRateBasisPoints, (grossByRate.get(line.vatRateBasisPoints) ?? 0) + line.totalCents);
  const vatRates = [...grossByRate.entries()]
    .sort(([a], [b]) => b - a)
    .map(([vatRateBasisPoints, grossCents]) => ({ vatRateBasisPoints, grossCents, ...vatIncluded(grossCents, vatRateBasisPoints) }));
  return {
    lines: withTotals,
    vatRates,
    netCents: vatRates.reduce((sum, rate) => sum + rate.netCents, 0),
    vatCents: vatRates.reduce((sum, rate) => sum + rate.vatCents, 0),
    totalCents,
  };
}
