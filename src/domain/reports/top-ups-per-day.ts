import { addDays, daysBetween, startOfDay, type DayKey } from '../time/calendar.js';
import type { DayRange } from '../time/day-range.js';

/** An order paid, as the chart counts it. */
export interface PaidTopUp {
  paidAt: Date;
  currency: string;
  priceCents: number;
}

export interface DayTotal {
  day: DayKey;
  count: number;
  amountCents: number;
}

/** Top-ups paid per day in one currency, every day of the range present (zero when nothing was paid). */
export interface DailyTopUps {
  currency: string;
  days: DayTotal[];
  count: number;
  amountCents: number;
}

/**
 * Adds paid top-ups, one at a time as they are read, to the day they were paid on in `timeZone`.
 * Day boundaries are computed once (DST-aware) and each payment is placed by binary search.
 */
export function tallyTopUpsPerDay(range: DayRange, timeZone: string) {
  const days = daysBetween(range.from, range.to);
  const boundaries = [...days, addDays(range.to, 1)].map((day) => startOfDay(day, timeZone).getTime());
  const byCurrency = new Map<string, DayTotal[]>();

  const dayIndexOf = (instant: number): number | null => {
    if (instant < boundaries[0]! || instant >= boundaries[boundaries.length - 1]!) return null;
    let low = 0;
    let high = days.length - 1;
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if (boundaries[middle]! <= instant) low = middle;
      else high = middle - 1;
    }
    return low;
  };
  const seriesOf = (currency: string): DayTotal[] => {
    let series = byCurrency.get(currency);
    if (!series) {
      series = days.map((day) => ({ day, count: 0, amountCents: 0 }));
      byCurrency.set(currency, series);
    }
    return series;
  };

  return {
    add(topUp: PaidTopUp): void {
      const index = dayIndexOf(topUp.paidAt.getTime());
      if (index === null) return;
      const total = seriesOf(topUp.currency)[index]!;
      total.count += 1;
      total.amountCents += topUp.priceCents;
    },
    /** One series per currency paid in, by currency code, and one for `currency` even if nothing was paid in it. */
    result(currency: string): DailyTopUps[] {
      seriesOf(currency);
      return [...byCurrency.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([code, series]) => ({
          currency: code,
          days: series,
          count: series.reduce((sum, day) => sum + day.count, 0),
          amountCents: series.reduce((sum, day) => sum + day.amountCents, 0),
        }));
    },
  };
}
