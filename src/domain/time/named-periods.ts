import { addDays, firstOfMonth, parseDay, type DayKey } from './calendar.js';
import type { DayRange } from './day-range.js';

/** The periods a person picks by name instead of typing days; each is whole days of the portal's zone. */
export const NAMED_PERIODS = ['last_30_days', 'this_month', 'last_month', 'this_year'] as const;
export type NamedPeriod = (typeof NAMED_PERIODS)[number];

export const isNamedPeriod = (value: unknown): value is NamedPeriod => (NAMED_PERIODS as readonly unknown[]).includes(value);

/**
 * The days a named period covers when `today` is the portal's day: those ending today end with it (a
 * job printed this morning counts), "last month" is the whole calendar month before today's.
 */
export function namedRange(period: NamedPeriod, today: DayKey): DayRange {
  const day = parseDay(today);
  switch (period) {
    case 'last_30_days':
      return { from: addDays(day, -29), to: day };
    case 'this_month':
      return { from: firstOfMonth(day), to: day };
    case 'last_month': {
      const lastDay = addDays(firstOfMonth(day), -1);
      return { from: firstOfMonth(lastDay), to: lastDay };
    }
    case 'this_year':
      return { from: `${day.slice(0, 4)}-01-01`, to: day };
  }
}
