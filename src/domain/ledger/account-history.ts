import type { DayKey } from '../time/calendar.js';
import { checkDayRange, periodOf, type OpenDayRange } from '../time/day-range.js';
import { isNamedPeriod, NAMED_PERIODS, namedRange } from '../time/named-periods.js';
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
  period?: 'unknown_period';
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

/** The periods the history form offers: everything, a named one, or days the person picks. */
export const HISTORY_PERIODS = ['all', ...NAMED_PERIODS, 'custom'] as const;
export type HistoryPeriod = (typeof HISTORY_PERIODS)[number];

const isHistoryPeriod = (value: unknown): value is HistoryPeriod => (HISTORY_PERIODS as readonly unknown[]).includes(value);

/**
 * The history form as sent: a named period is its days up to `today` (the days typed are then left
 * aside: the browser sends the hidden custom fields too); no period with days typed is a custom one,
 * as the links made before periods had names say; neither is everything.
 */
export function checkHistoryForm(
  input: { period: unknown; category: unknown; from: unknown; to: unknown },
  today: DayKey,
  timeZone: string,
): { filter: HistoryFilter; period: HistoryPeriod; range: OpenDayRange; errors: HistoryFilterErrors } {
  const typed = (value: unknown) => value !== undefined && value !== '';
  const asked = typed(input.period) ? input.period : typed(input.from) || typed(input.to) ? 'custom' : 'all';
  const period = isHistoryPeriod(asked) ? asked : 'all';
  const days = isNamedPeriod(period) ? namedRange(period, today) : period === 'custom' ? { from: input.from, to: input.to } : { from: undefined, to: undefined };
  const checked = checkHistoryFilter({ category: input.category, ...days }, timeZone);
  return { ...checked, period, errors: isHistoryPeriod(asked) ? checked.errors : { ...checked.errors, period: 'unknown_period' } };
}
