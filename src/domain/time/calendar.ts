import { DomainError } from '../shared/errors.js';

/** A calendar day in the portal's time zone, as `YYYY-MM-DD` (what reports and filters speak). */
export type DayKey = string;

export class CalendarError extends DomainError<'invalid_day'> {}

const DAY_KEY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 24 * 3600_000;

// Building an Intl.DateTimeFormat costs far more than using one; exports format thousands of instants.
const wallClockFormats = new Map<string, Intl.DateTimeFormat>();

function zonedParts(instant: Date, timeZone: string) {
  let format = wallClockFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    wallClockFormats.set(timeZone, format);
  }
  const parts = format.formatToParts(instant);
  const get = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((part) => part.type === type)?.value);
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour'), minute: get('minute'), second: get('second') };
}

/** How far the zone's wall clock is ahead of UTC at `instant`, in ms. */
function offsetMs(instant: Date, timeZone: string): number {
  const p = zonedParts(instant, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(instant.getTime() / 1000) * 1000;
}

/** The day `instant` falls on in `timeZone`. */
export function dayOf(instant: Date, timeZone: string): DayKey {
  const { year, month, day } = zonedParts(instant, timeZone);
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** Reads a `YYYY-MM-DD` typed in a form or a URL; anything else, or a day that does not exist, is refused. */
export function parseDay(text: unknown): DayKey {
  const match = typeof text === 'string' ? DAY_KEY.exec(text) : null;
  if (!match) throw new CalendarError('invalid_day', 'expected a day as YYYY-MM-DD');
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  // Bounded so that the day after is still a YYYY-MM-DD day (9999-12-31 has none).
  if (year < 2000 || year > 2999 || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) throw new CalendarError('invalid_day', `${String(text)} is not a day`);
  return text as DayKey;
}

/** The first instant of `day` in `timeZone` (midnight, or the first valid time if a DST change skips it). */
export function startOfDay(day: DayKey, timeZone: string): Date {
  return zonedInstant(day, 0, timeZone);
}

/**
 * The instant the wall clock of `timeZone` shows `minutes` past midnight on `day`. A time the clocks
 * show twice (going back) is its first occurrence; a time they skip (going forward) is the instant
 * the old offset would give it, just after the jump — so a skipped midnight starts the day when the
 * clocks resume.
 */
export function zonedInstant(day: DayKey, minutes: number, timeZone: string): Date {
  const [year, month, date] = parseDay(day).split('-').map(Number) as [number, number, number];
  const wallClock = Date.UTC(year, month - 1, date) + minutes * 60_000;
  // The offsets in force a day before and a day after: any DST change near the time lies between them.
  const [before, after] = [wallClock - DAY_MS, wallClock + DAY_MS].map((around) => wallClock - offsetMs(new Date(around), timeZone)) as [number, number];
  const shown = [before, after].filter((instant) => instant + offsetMs(new Date(instant), timeZone) === wallClock);
  return new Date(shown.length > 0 ? Math.min(...shown) : before);
}

/** What the wall clock of `timeZone` shows at `instant`: the day, and the minutes past its midnight. */
export function wallClockOf(instant: Date, timeZone: string): { day: DayKey; minutes: number } {
  const { hour, minute } = zonedParts(instant, timeZone);
  return { day: dayOf(instant, timeZone), minutes: hour * 60 + minute };
}

export function addDays(day: DayKey, count: number): DayKey {
  const [year, month, date] = parseDay(day).split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(year, month - 1, date + count)).toISOString().slice(0, 10);
}

/** The first day of the month `day` is in. */
export function firstOfMonth(day: DayKey): DayKey {
  return `${parseDay(day).slice(0, 8)}01`;
}

/** Every day from `from` to `to`, both included. */
export function daysBetween(from: DayKey, to: DayKey): DayKey[] {
  const days: DayKey[] = [];
  for (let day = from; day <= to; day = addDays(day, 1)) days.push(day);
  return days;
}
