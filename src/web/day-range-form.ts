import { MAX_REPORT_DAYS, type DayRange, type DayRangeErrors } from '../domain/time/day-range.js';
import type { Translate } from '../i18n/index.js';

/** The message for each problem of a typed range, by field, in the section's words. */
export function dayRangeMessages(errors: DayRangeErrors, t: Translate, section: 'reports' | 'audit'): Partial<Record<keyof DayRange, string>> {
  const message = {
    invalid_day: () => t(`admin.${section}.errors.invalidDay`),
    to_before_from: () => t(`admin.${section}.errors.toBeforeFrom`),
    too_long: () => t('admin.reports.errors.tooLong', { max: MAX_REPORT_DAYS }),
  };
  return Object.fromEntries(Object.entries(errors).map(([field, problem]) => [field, message[problem]()]));
}

/** What a field held, echoed back into the form (a repeated parameter shows nothing). */
export const typedText = (value: unknown): string => (typeof value === 'string' ? value.slice(0, 20) : '');
