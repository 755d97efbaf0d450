import type { DayKey } from '../time/calendar.js';

/**
 * D-<year the quote was made>-<id on six digits>: its own series beside orders (R-…) and documents.
 * The year is the one of `createdOn`, the portal's day (a quote made on 1 January at 00:30 in Paris
 * is of the new year); the number is made once, at creation, and stored.
 */
export function formatQuoteNumber(id: number, createdOn: DayKey): string {
  return `D-${createdOn.slice(0, 4)}-${String(id).padStart(6, '0')}`;
}

/**
 * What a customer types compared as printed, forgiving only spaces and case: " d-2026-000123 " is
 * D-2026-000123, "75 005" is 75005, "sw1a 1aa" is SW1A1AA, but "d 2026 000123" is not a quote number
 * (its dashes are missing). Compatibility forms fold first (NFKC: a full-width digit is a digit).
 */
export function lookupKey(text: string): string {
  return text.normalize('NFKC').replace(/\s+/g, '').toUpperCase();
}

/** Whether two texts are the same number or postcode once spaces and case are forgiven. */
export function sameLookupText(typed: string, printed: string): boolean {
  return lookupKey(typed) === lookupKey(printed);
}

/** A number as typed (spaces and case forgiven) written as stored, or null for anything that is not a quote number. */
export function canonicalQuoteNumber(number: unknown): string | null {
  const key = typeof number === 'string' ? lookupKey(number) : '';
  return /^D-\d{4}-\d{6,9}$/.test(key) ? key : null;
}
