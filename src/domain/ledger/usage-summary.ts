import { USAGE_CATEGORIES, type Hundredths, type UsageCategory } from './ledger.js';

export interface CategoryUsage {
  category: UsageCategory;
  units: Hundredths;
  /** Whole percent of the total; the four add up to 100 (all 0 when nothing was used). */
  percent: number;
}

export interface UsageSummary {
  total: Hundredths;
  /** Every category, in the order of USAGE_CATEGORIES. */
  categories: CategoryUsage[];
}

/**
 * Whole percentages of `values` (none negative) that add up to exactly 100, or all 0 when the total
 * is 0. Rounding each share on its own can give 99 or 101 (three equal thirds give 33 + 33 + 33), which
 * reads as a mistake; so each share is rounded down, and the points still missing go one each to the
 * shares that lost the most in rounding down (the largest remainder method), an earlier value first
 * on a tie. Every percentage is then its exact share rounded down or up, never further off. The
 * arithmetic is on integers: no floating-point remainder decides a tie.
 */
export function wholePercentages(values: readonly number[]): number[] {
  if (values.some((value) => !Number.isSafeInteger(value) || value < 0)) throw new RangeError('percentages of whole numbers, none negative');
  const total = values.reduce((sum, value) => sum + value, 0);
  if (total === 0) return values.map(() => 0);
  const shares = values.map((value, index) => ({ index, floor: Math.floor((value * 100) / total), remainder: (value * 100) % total }));
  let missing = 100 - shares.reduce((sum, share) => sum + share.floor, 0);
  const percentages = shares.map((share) => share.floor);
  for (const share of [...shares].sort((one, other) => other.remainder - one.remainder || one.index - other.index)) {
    if (missing === 0) break;
    percentages[share.index]! += 1;
    missing -= 1;
  }
  return percentages;
}

/** Units used per category (a category absent used nothing) with each one's share of the total. */
export function summarizeUsage(used: Partial<Record<UsageCategory, Hundredths>>): UsageSummary {
  const units = USAGE_CATEGORIES.map((category) => used[category] ?? 0);
  const percentages = wholePercentages(units);
  return {
    total: units.reduce((sum, value) => sum + value, 0),
    categories: USAGE_CATEGORIES.map((category, index) => ({ category, units: units[index]!, percent: percentages[index]! })),
  };
}
