import { createHash } from 'node:crypto';

/** At most `maxFailures` failed look-ups within any `windowMs`. */
export interface LookupLimit {
  maxFailures: number;
  windowMs: number;
}

const HOUR_MS = 3_600_000;

/**
 * "Recherche de commande" is answered only while these hold; a right postcode is refused too past
 * them, so that the limit cannot be told from a wrong guess. A quote number is counted whether or not
 * a quote has it (the limit tells nothing about which numbers exist), from every address: 10 guesses
 * a day try 300 of the 100,000 5-digit postcodes in a month, and 5 an hour leave a customer who
 * mistypes room to try again. An address (an IPv4 address or an IPv6 /64, as for logins) may fail 20 times an
 * hour, whatever the numbers it tries.
 */
export const QUOTE_LOOKUP_LIMITS = {
  perNumber: [
    { maxFailures: 5, windowMs: HOUR_MS },
    { maxFailures: 10, windowMs: 24 * HOUR_MS },
  ],
  perAddress: [{ maxFailures: 20, windowMs: HOUR_MS }],
} as const satisfies Record<string, readonly LookupLimit[]>;

export type QuoteLookupLimits = { [K in keyof typeof QUOTE_LOOKUP_LIMITS]: readonly LookupLimit[] };

/** Failures older than this count under no limit: their rows may go. */
export const longestLookupWindowMs = (limits: QuoteLookupLimits) => Math.max(...Object.values(limits).flat().map((limit) => limit.windowMs));

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * The counters one look-up is counted in: its quote number (as stored, once spaces and case are
 * forgiven) and its source. Hashed, so that the table holds no address and every key has one length.
 */
export const lookupKeys = (number: string, source: string) => ({ number: `number:${sha256(number)}`, address: `address:${sha256(source)}` });

/**
 * Milliseconds until one more look-up may be checked under `limits`, given the times of the failures
 * counted so far (in any order); 0 when it may be now. A window holding `maxFailures` failures lets the
 * next one in once enough of them are older than the window.
 */
export function lookupWaitMs(failures: readonly number[], now: number, limits: readonly LookupLimit[]): number {
  let wait = 0;
  for (const { maxFailures, windowMs } of limits) {
    const recent = failures.filter((at) => at > now - windowMs).sort((one, other) => one - other);
    if (recent.length >= maxFailures) wait = Math.max(wait, recent[recent.length - maxFailures]! + windowMs - now);
  }
  return wait;
}

/** How long a look-up of a number from a source must wait: the longer of its number's and its address's waits. */
export function quoteLookupWaitMs(failures: { number: readonly number[]; address: readonly number[] }, now: number, limits: QuoteLookupLimits = QUOTE_LOOKUP_LIMITS): number {
  return Math.max(lookupWaitMs(failures.number, now, limits.perNumber), lookupWaitMs(failures.address, now, limits.perAddress));
}
