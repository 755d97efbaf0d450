import { categoryAccountCode, HISTORY_CATEGORIES, type HistoryCategory, type HistoryFilter } from './account-history.js';
import { USAGE_CATEGORIES, type Hundredths, type UsageCategory } from './ledger.js';

/**
 * A person's account activity is counted in buckets of whole quarter-hours (UTC). Every time zone's
 * offset is a whole number of quarter-hours (India +5:30, Nepal +5:45, Chatham +12:45), so a day of the
 * portal's zone starts and ends on one, and a range of days is a range of quarter-hours: the posting
 * needs no time zone.
 */
export const QUARTER_HOUR_MS = 15 * 60_000;

/**
 * The spans of the buckets, in quarter-hours: a quarter-hour, a UTC day, 32 UTC days; each a whole
 * number of the one before. Any period is a few buckets of each span, at most 2 × 95 quarter-hours and
 * 2 × 31 days at its ends with 32-day buckets between: what a period costs to read does not grow with
 * the history.
 */
export const SPANS = [1, 96, 3072] as const;

/** The span of the one bucket (0) that counts since the account was opened: the unfiltered page's. */
export const ALL_TIME = 0;

/** What the rows count: all the account's entries, or those of one history category. */
export const ACTIVITY_CLASSES = ['all', ...HISTORY_CATEGORIES] as const;
export type ActivityClass = (typeof ACTIVITY_CLASSES)[number];

export interface ActivityRow {
  accountId: number;
  activityClass: ActivityClass;
  /** One of SPANS, or ALL_TIME. */
  span: number;
  /** The quarter-hour divided by the span, rounded down; 0 for ALL_TIME. */
  bucket: number;
  /** Entries of the account in the class, by the time of their transaction. */
  entries: number;
  /** Units used in a usage category, by the time of the job: a cancellation takes them back in the job's buckets. */
  usedUnits: Hundredths;
}

/** A line of a transaction as posted: its account's kind tells a person's account from a system one. */
export interface PostedLine {
  accountId: number;
  amount: Hundredths;
  accountKind: 'user' | 'system';
  accountCode: string;
}

export interface PostedTransaction {
  createdAt: Date;
  /** For a reversal, when the transaction it reverses was posted (a cancelled job's time). */
  reversedCreatedAt: Date | null;
  lines: readonly PostedLine[];
}

/** Buckets of one span, [from, until); an open end is infinite. */
export interface BucketRange {
  span: number;
  from: number;
  until: number;
}

const quarterHourOf = (instant: Date): number => Math.floor(instant.getTime() / QUARTER_HOUR_MS);

const CATEGORY_OF_ACCOUNT = new Map<string, HistoryCategory>(HISTORY_CATEGORIES.map((category) => [categoryAccountCode(category), category]));
const isUsageCategory = (category: HistoryCategory | undefined): category is UsageCategory => (USAGE_CATEGORIES as readonly unknown[]).includes(category);

/**
 * What one transaction adds to its people's activity, one row per key. Each person's line counts once
 * in `all` and once in each category whose system account the transaction touches (as the history's
 * category filter keeps it); the units a usage account received count as used by each person of the
 * transaction, at the job's time (a reversal's: that of the transaction it reverses).
 */
export function activityOf(transaction: PostedTransaction): ActivityRow[] {
  const categories = transaction.lines.map((line) => CATEGORY_OF_ACCOUNT.get(line.accountCode)).filter((category) => category !== undefined);
  const rows: ActivityRow[] = [];
  const add = (accountId: number, at: Date, activityClass: ActivityClass, entries: number, usedUnits: Hundredths) => {
    const quarterHour = quarterHourOf(at);
    for (const span of SPANS) rows.push({ accountId, activityClass, span, bucket: Math.floor(quarterHour / span), entries, usedUnits });
    rows.push({ accountId, activityClass, span: ALL_TIME, bucket: 0, entries, usedUnits });
  };
  for (const person of transaction.lines.filter((line) => line.accountKind === 'user')) {
    for (const activityClass of ['all', ...categories] as const) add(person.accountId, transaction.createdAt, activityClass, 1, 0);
    for (const line of transaction.lines) {
      const category = CATEGORY_OF_ACCOUNT.get(line.accountCode);
      if (isUsageCategory(category)) add(person.accountId, transaction.reversedCreatedAt ?? transaction.createdAt, category, 0, line.amount);
    }
  }
  return mergeActivity(rows);
}

/** The rows summed per account, class and bucket: one write per key. */
export function mergeActivity(rows: readonly ActivityRow[]): ActivityRow[] {
  const merged = new Map<string, ActivityRow>();
  for (const row of rows) {
    const key = `${row.accountId}:${row.activityClass}:${row.span}:${row.bucket}`;
    const sum = merged.get(key);
    if (sum) {
      sum.entries += row.entries;
      sum.usedUnits += row.usedUnits;
    } else {
      merged.set(key, { ...row });
    }
  }
  return [...merged.values()];
}

/**
 * The buckets that make up a period, [from, until): its ends in quarter-hours up to the next day, its
 * days up to the next 32-day bucket, then 32-day buckets; no end, the one ALL_TIME bucket. A boundary
 * off a quarter-hour cannot be answered from buckets; it would take a time zone whose offset is not a
 * whole number of quarter-hours, which none has had since 2000 (the first year a filter accepts), so
 * it is refused rather than answered by reading the entries.
 */
export function bucketRanges(period: Pick<HistoryFilter, 'from' | 'until'>): BucketRange[] {
  if (!period.from && !period.until) return [{ span: ALL_TIME, from: 0, until: 1 }];
  const quarterHour = (instant: Date) => {
    if (instant.getTime() % QUARTER_HOUR_MS !== 0) throw new RangeError(`${instant.toISOString()} is not on a quarter-hour: an account's activity is counted per quarter-hour`);
    return instant.getTime() / QUARTER_HOUR_MS;
  };
  // Both ends stay multiples of the span being read (or infinite) as the spans grow.
  let low = period.from ? quarterHour(period.from) : -Infinity;
  let high = period.until ? quarterHour(period.until) : Infinity;
  const ranges: BucketRange[] = [];
  const read = (span: number, from: number, until: number) => {
    if (from < until) ranges.push({ span, from: from / span, until: until / span });
  };
  for (const [index, span] of SPANS.entries()) {
    const next = SPANS[index + 1];
    if (next === undefined) {
      read(span, low, high);
      break;
    }
    const headEnd = Math.min(Math.ceil(low / next) * next, high);
    const tailStart = Math.max(Math.floor(high / next) * next, headEnd);
    read(span, low, headEnd);
    read(span, tailStart, high);
    [low, high] = [headEnd, tailStart];
  }
  return ranges;
}
