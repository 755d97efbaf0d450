/**
 * Money in hundredths of a unit, integers only: prices are converted once from the configuration's
 * units, and a job's cost is an integer product, so no rounding ever happens on a job.
 */

/** A price as a person writes it: digits, and at most two decimals (the number's shortest text is checked). */
const AT_MOST_TWO_DECIMALS = /^\d+(\.\d{1,2})?$/;

/** Hundredths of a non-negative number of units with at most two decimals; null for anything else. */
export function hundredthsOf(units: number): number | null {
  if (!Number.isFinite(units) || !AT_MOST_TWO_DECIMALS.test(String(units))) return null;
  return Math.round(units * 100);
}

/** Units as the API reads them: 30 → 0.3 (an integer divided by 100 prints with at most two decimals). */
export const unitsOf = (hundredths: number) => hundredths / 100;

/** Units for people to read: 30 → "0.30", -150 → "-1.50". */
export function formatUnits(hundredths: number): string {
  const sign = hundredths < 0 ? '-' : '';
  const absolute = Math.abs(hundredths);
  return `${sign}${Math.floor(absolute / 100)}.${String(absolute % 100).padStart(2, '0')}`;
}

/** Price of one page (one side) in hundredths, by colour and sides. */
export interface PagePrices {
  mono: { simplex: number; duplex: number };
  /** Absent for a printer that prints no colour. */
  colour?: { simplex: number; duplex: number } | undefined;
}

export interface JobPrintMode {
  colour: boolean;
  duplex: boolean;
}

export function pricePerPage(prices: PagePrices, mode: JobPrintMode): number {
  const table = mode.colour && prices.colour ? prices.colour : prices.mono;
  return mode.duplex ? table.duplex : table.simplex;
}

/** What a job costs: pages × copies × the page's price, in hundredths. */
export function jobCost(prices: PagePrices, mode: JobPrintMode, pages: number, copies: number): number {
  return pages * copies * pricePerPage(prices, mode);
}
