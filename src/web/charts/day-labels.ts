import type { Locale } from '../../i18n/index.js';

/**
 * A day (`YYYY-MM-DD`) as a chart's axis shows it ("3 déc.") and as its texts say it ("3 déc. 2026").
 * A day key is a date, not an instant: formatted at UTC.
 */
export function dayLabels(locale: Locale) {
  const short = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', timeZone: 'UTC' });
  const full = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' });
  const at = (day: string) => new Date(`${day}T00:00:00Z`);
  return { short: (day: string) => short.format(at(day)), full: (day: string) => full.format(at(day)) };
}
