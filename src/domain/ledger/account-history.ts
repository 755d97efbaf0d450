import { checkDayRange, periodOf, type OpenDayRange } from '../time/day-range.js';
import { SystemAccount, USAGE_CATEGORIES } from './ledger.js';

/**
 * What a person's history can be narrowed to: top-ups (with their refunds), or one usage category
 * (with its cancellations: a reversal stays in the category of the job it cancels).
 */
export const HISTORY_CATEGORIES = ['top_up', ...USAGE_CATEGORIES] as const;
export type HistoryCategory = (typeof HISTORY_CATEGORIES)[number];

export interface HistoryFilter {
  category?: HistoryCategory;
  from?: Date;
  /** Excluded. */
  until?: Date;
}

/** What is wrong with each field; empty when the filter is good. */
export interface HistoryFilterErrors {
  category?: 'unknown_category';
  from?: 'invalid_day';
  to?: 'invalid_day' | 'to_before_from';
}

/** The system account a transaction touches to be in the category. */
export const categoryAccountCode = (category: HistoryCategory): string => (category === 'top_up' ? SystemAccount.topUps : SystemAccount.usage(category));

export const isHistoryCategory = (value: unknown): value is HistoryCategory => (HISTORY_CATEGORIES as readonly unknown[]).includes(value);

/**
 * A history filter as typed in a form: a field left empty (or absent) filters nothing; days are whole
 * days of `timeZone`, `to` included.
 */
export function checkHistoryFilter(
  input: { category: unknown; from: unknown; to: unknown },
  timeZone: string,
): { filter: HistoryFilter; range: OpenDayRange; errors: HistoryFilterErrors } {
  const given = (value: unknown) => (value === '' ? undefined : value);
  const { range, errors } = checkDayRange({ from: given(input.from), to: given(input.to) }, { from: null, to: null }, null);
  const category = given(input.category);
  // Without a longest range, checkDayRange finds no range too long.
  const problems = { ...errors } as HistoryFilterErrors;
  if (category !== undefined && !isHistoryCategory(category)) problems.category = 'unknown_category';
  const filter: HistoryFilter = { ...periodOf(range, timeZone), ...(isHistoryCategory(category) ? { category } : {}) };
  return { filter, range, errors: problems };
}
