import { decimalText } from '../domain/shared/decimal.js';
import type { Hundredths } from '../domain/ledger/ledger.js';
import type { Locale, Translate } from './index.js';

const numberFormats = new Map<Locale, Intl.NumberFormat>();
const pluralRules = new Map<Locale, Intl.PluralRules>();

/** "49,60" in French, "49.60" in English; exact (decimal string, never a float). */
export function formatHundredths(amount: Hundredths, locale: Locale, { signed = false } = {}): string {
  let format = numberFormats.get(locale);
  if (!format) {
    format = new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    numberFormats.set(locale, format);
  }
  const magnitude = Math.abs(amount);
  const decimal = decimalText(magnitude);
  const sign = amount < 0 ? '−' : signed && amount > 0 ? '+' : '';
  return sign + format.format(decimal as unknown as number);
}

/** "12,50 unités", "1,00 unité", "1.00 unit": an amount of units with its word, in `t`'s language. */
export function formatUnits(t: Translate, amount: Hundredths, locale: Locale): string {
  return t(`units.${pluralCategory(amount, locale)}`, { value: formatHundredths(amount, locale) });
}

/** Which plural form a displayed amount takes ("1,50 unité" but "1.50 units"). */
export function pluralCategory(amount: Hundredths, locale: Locale): 'one' | 'other' {
  let rules = pluralRules.get(locale);
  if (!rules) {
    rules = new Intl.PluralRules(locale, { minimumFractionDigits: 2 });
    pluralRules.set(locale, rules);
  }
  return rules.select(Math.abs(amount) / 100) === 'one' ? 'one' : 'other';
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();

export function formatDateTime(date: Date, locale: Locale, timeZone: string): string {
  const key = `${locale}|${timeZone}`;
  let format = dateFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone });
    dateFormats.set(key, format);
  }
  return format.format(date);
}

const dayFormats = new Map<Locale, Intl.DateTimeFormat>();

/** A calendar day (`2026-11-23`) in words, "23 novembre 2026": a date, not an instant, so formatted at UTC. */
export function formatDay(day: string, locale: Locale): string {
  let format = dayFormats.get(locale);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' });
    dayFormats.set(locale, format);
  }
  return format.format(new Date(`${day}T00:00:00Z`));
}

const shareFormats = new Map<Locale, Intl.NumberFormat>();

/** A fraction as a whole percentage: 0.25 is "25 %" in French, "25%" in English. */
export function formatShare(fraction: number, locale: Locale): string {
  let format = shareFormats.get(locale);
  if (!format) {
    format = new Intl.NumberFormat(locale, { style: 'percent' });
    shareFormats.set(locale, format);
  }
  return format.format(fraction);
}

const moneyFormats = new Map<string, Intl.NumberFormat>();

/** "20,00 €" in French, "€20.00" in English; exact, like formatHundredths. */
export function formatMoney(cents: number, currency: string, locale: Locale): string {
  const key = `${locale}|${currency}`;
  let format = moneyFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale, { style: 'currency', currency, minimumFractionDigits: 2, maximumFractionDigits: 2 });
    moneyFormats.set(key, format);
  }
  return format.format(decimalText(cents) as unknown as number);
}

const percentFormats = new Map<Locale, Intl.NumberFormat>();

/** A rate in basis points as a percentage number: 550 is "5,5" in French, "5.5" in English. */
export function formatPercent(basisPoints: number, locale: Locale): string {
  let format = percentFormats.get(locale);
  if (!format) {
    format = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
    percentFormats.set(locale, format);
  }
  return format.format(basisPoints / 100);
}
