import { FAMILIAR_SOURCE_DAYS } from '../people/login-throttle.js';
import { longestLookupWindowMs, QUOTE_LOOKUP_LIMITS } from '../quotes/quote-lookup.js';

/** How long each kind of row is kept, as configured (config.retention). */
export interface RetentionPeriods {
  unpaidOrdersDays: number;
  webhooksDays: number;
  mailsDays: number;
  signInsDays: number;
  apiIdempotencyDays: number;
  auditDays: number;
  familiarSourcesDays: number;
  peopleImportsDays: number;
  accountingYears: number;
}

/**
 * The floors the database enforces itself (migration 20261216090500_retention): an audit entry younger
 * than a year, a stored document issued less than 3653 days ago (10 years, leap days included) cannot
 * be deleted. The cutoffs below stay a day behind them, so that the portal's clock running a little
 * ahead of the database's never asks for a row the trigger refuses.
 */
export const AUDIT_FLOOR_DAYS = 365;
export const DOCUMENT_FILES_FLOOR_DAYS = 3653;

/** What the retention job deletes is what is strictly older than these instants (ms for the tables that count in ms). */
export interface RetentionCutoffs {
  unpaidOrders: Date;
  webhooks: Date;
  mails: Date;
  /** Sessions whose expiry is past. */
  sessions: Date;
  /** Ended sign-ins (their session gone or expired) started before this. */
  signIns: Date;
  /** The login throttle's rows holding nothing: a lock ended, or a count whose window started before this. */
  loginThrottleNow: number;
  loginThrottleWindowStart: number;
  signInKeys: number;
  quoteLookupAttempts: number;
  apiIdempotency: Date;
  audit: Date;
  familiarSources: number;
  /** People import files (names, e-mails) checked, and imported if they were, before this. */
  peopleImports: Date;
  /** Documents issued before this whose buyer's account was anonymised: their copies of the buyer go. */
  accountingDocuments: Date;
}

const DAY_MS = 24 * 3600_000;

const daysBefore = (now: Date, days: number) => new Date(now.getTime() - days * DAY_MS);

/** `years` calendar years before `now` (UTC), and never later than `floorDays` days before it. */
function yearsBefore(now: Date, years: number, floorDays: number): Date {
  const calendar = new Date(now.getTime());
  calendar.setUTCFullYear(calendar.getUTCFullYear() - years);
  return new Date(Math.min(calendar.getTime(), now.getTime() - floorDays * DAY_MS));
}

export function retentionCutoffs(periods: RetentionPeriods, now: Date, loginWindowMinutes: number): RetentionCutoffs {
  const ms = now.getTime();
  return {
    unpaidOrders: daysBefore(now, periods.unpaidOrdersDays),
    webhooks: daysBefore(now, periods.webhooksDays),
    mails: daysBefore(now, periods.mailsDays),
    sessions: now,
    signIns: daysBefore(now, periods.signInsDays),
    loginThrottleNow: ms,
    loginThrottleWindowStart: ms - loginWindowMinutes * 60_000,
    signInKeys: ms,
    quoteLookupAttempts: ms - longestLookupWindowMs(QUOTE_LOOKUP_LIMITS),
    apiIdempotency: daysBefore(now, periods.apiIdempotencyDays),
    audit: daysBefore(now, Math.max(periods.auditDays, AUDIT_FLOOR_DAYS + 1)),
    familiarSources: ms - Math.max(periods.familiarSourcesDays, FAMILIAR_SOURCE_DAYS) * DAY_MS,
    peopleImports: daysBefore(now, periods.peopleImportsDays),
    accountingDocuments: yearsBefore(now, periods.accountingYears, DOCUMENT_FILES_FLOOR_DAYS + 1),
  };
}

/** The kinds of rows the job removes, in the order it removes them (children before what they point to). */
export const RETENTION_KINDS = [
  'sessions',
  'signIns',
  'loginThrottle',
  'signInKeys',
  'quoteLookupAttempts',
  'familiarSources',
  'webhookTransmissions',
  'webhookEvents',
  'unpaidOrders',
  'mails',
  'peopleImports',
  'apiIdempotency',
  'audit',
  'accountingDocuments',
] as const;
export type RetentionKind = (typeof RETENTION_KINDS)[number];

export type RetentionCounts = Record<RetentionKind, number>;
