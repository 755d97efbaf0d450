import type { Knex } from 'knex';
import { paidTopUpPages } from '../../db/reports/report-repository.js';
import { tallyTopUpsPerDay, type DailyTopUps } from '../../domain/reports/top-ups-per-day.js';
import { periodOf, type DayRange } from '../../domain/time/day-range.js';

/**
 * Top-ups paid per day of `range` in `timeZone`, per currency; `currency` is always there (zero days
 * included), so a chart of it can be drawn even when nothing was paid. Read page by page: never the
 * whole period in memory at once.
 */
export async function dailyTopUps(db: Knex, range: DayRange, timeZone: string, currency: string): Promise<DailyTopUps[]> {
  const tally = tallyTopUpsPerDay(range, timeZone);
  for await (const page of paidTopUpPages(db, periodOf(range, timeZone))) for (const topUp of page) tally.add(topUp);
  return tally.result(currency);
}
