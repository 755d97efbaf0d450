import { addDays, CalendarError, parseDay, startOfDay, type DayKey } from './calendar.js';

/** Days typed in a report or filter form, `to` included. */
export interface DayRange {
  from: DayKey;
  to: DayKey;
}

/** The longest range a report covers: a year, leap day included. */
export const MAX_REPORT_DAYS = 366;

export type DayRangeProblem = 'invalid_day' | 'to_before_from' | 'too_long';

/** What is wrong with each field; empty when the range is good. */
export type DayRangeErrors = Partial<Record<keyof DayRange, DayRangeProblem>>;

const MS_PER_DAY = 86_400_000;

/** How many days a range covers, both ends included. */
export function dayCount({ from, to }: DayRange): number {
  return Math.round((Date.parse(to) - Date.parse(from)) / MS_PER_DAY) + 1;
}

function readDay(text: unknown): DayKey | null {
  try {
    return parseDay(text);
  } catch (error) {
    if (error instanceof CalendarError) return null;
    throw error;
  }
}

/**
 * Checks the two ends of a range; a field that is absent (`undefined`) takes its default, so a form
 * opened without parameters shows the default range. A missing default leaves that end open (null).
 */
export function checkDayRange(
  input: { from: unknown; to: unknown },
  defaults: OpenDayRange,
  maxDays: number | null,
): { range: OpenDayRange; errors: DayRangeErrors } {
  const errors: DayRangeErrors = {};
  const read = (field: keyof DayRange): DayKey | null => {
    const value = input[field];
    if (value === undefined) return defaults[field];
    const day = readDay(value);
    if (day === null) errors[field] = 'invalid_day';
    return day;
  };
  const range = { from: read('from'), to: read('to') };
  if (range.from !== null && range.to !== null && !errors.from && !errors.to) {
    if (range.to < range.from) errors.to = 'to_before_from';
    else if (maxDays !== null && dayCount({ from: range.from, to: range.to }) > maxDays) errors.to = 'too_long';
  }
  return { range, errors };
}

/** A range whose ends may be open (a filter left empty). */
export interface OpenDayRange {
  from: DayKey | null;
  to: DayKey | null;
}

/**
 * The instants a range of days covers in `timeZone`: from its first midnight to the midnight after
 * its last day (excluded); an open end stays open.
 */
export function periodOf(range: DayRange, timeZone: string): { from: Date; until: Date };
export function periodOf(range: OpenDayRange, timeZone: string): { from?: Date; until?: Date };
export function periodOf(range: OpenDayRange, timeZone: string): { from?: Date; until?: Date } {
  return {
    ...(range.from === null ? {} : { from: startOfDay(range.from, timeZone) }),
    ...(range.to === null ? {} : { until: startOfDay(addDays(range.to, 1), timeZone) }),
  };
}
