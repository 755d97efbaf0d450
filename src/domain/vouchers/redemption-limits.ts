import { createHash } from 'node:crypto';
import { lookupWaitMs, type LookupLimit } from '../quotes/quote-lookup.js';

const HOUR_MS = 3_600_000;

/**
 * Failed redemptions allowed: a person who mistypes has room to try again (10 an hour, 20 a day),
 * while guessing one of 10,000 live codes among 2^80 would take about 2^66 tries; an address (an IPv4
 * address or an IPv6 /64) 30 an hour whoever is signed in, so that many accounts on one machine do
 * not multiply the tries. Kept a day, the longest window.
 */
export const REDEMPTION_LIMITS = {
  perPerson: [
    { maxFailures: 10, windowMs: HOUR_MS },
    { maxFailures: 20, windowMs: 24 * HOUR_MS },
  ],
  perAddress: [{ maxFailures: 30, windowMs: HOUR_MS }],
} as const satisfies Record<string, readonly LookupLimit[]>;

export type RedemptionLimits = { [K in keyof typeof REDEMPTION_LIMITS]: readonly LookupLimit[] };

export const longestRedemptionWindowMs = (limits: RedemptionLimits = REDEMPTION_LIMITS) => Math.max(...Object.values(limits).flat().map((limit) => limit.windowMs));

/** The counters of an attempt: its person, and its source hashed (the table holds no address). */
export const redemptionKeys = (userId: number, source: string) => ({
  person: `person:${userId}`,
  address: `address:${createHash('sha256').update(source, 'utf8').digest('hex')}`,
});

/** How long a redemption must wait: the longer of its person's and its address's waits (0: now). */
export function redemptionWaitMs(failures: { person: readonly number[]; address: readonly number[] }, now: number, limits: RedemptionLimits = REDEMPTION_LIMITS): number {
  return Math.max(lookupWaitMs(failures.person, now, limits.perPerson), lookupWaitMs(failures.address, now, limits.perAddress));
}
