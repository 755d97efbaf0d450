import { expect } from 'chai';
import fc from 'fast-check';
import { addDays, firstOfMonth } from '../../src/domain/time/calendar.js';
import { dayCount } from '../../src/domain/time/day-range.js';
import { NAMED_PERIODS, namedRange } from '../../src/domain/time/named-periods.js';

/** A day of the calendar's years (parseDay: 2000–2999) whose last month and last 30 days are in them too. */
const anyDay = fc.date({ min: new Date('2001-01-01T00:00:00Z'), max: new Date('2999-12-31T00:00:00Z'), noInvalidDate: true }).map((date) => date.toISOString().slice(0, 10));

describe('named periods of days', () => {
  it('says the days of each period on a given day', () => {
    expect(namedRange('last_30_days', '2026-11-23')).to.deep.equal({ from: '2026-10-25', to: '2026-11-23' });
    expect(namedRange('this_month', '2026-11-23')).to.deep.equal({ from: '2026-11-01', to: '2026-11-23' });
    expect(namedRange('last_month', '2026-11-23')).to.deep.equal({ from: '2026-10-01', to: '2026-10-31' });
    expect(namedRange('this_year', '2026-11-23')).to.deep.equal({ from: '2026-01-01', to: '2026-11-23' });
    // Across a year's end, and a leap February.
    expect(namedRange('last_month', '2027-01-05')).to.deep.equal({ from: '2026-12-01', to: '2026-12-31' });
    expect(namedRange('last_month', '2028-03-31')).to.deep.equal({ from: '2028-02-01', to: '2028-02-29' });
    expect(namedRange('last_30_days', '2028-03-01')).to.deep.equal({ from: '2028-02-01', to: '2028-03-01' });
    expect(namedRange('last_30_days', '2027-03-01')).to.deep.equal({ from: '2027-01-31', to: '2027-03-01' });
    expect(namedRange('this_month', '2026-11-01')).to.deep.equal({ from: '2026-11-01', to: '2026-11-01' });
  });

  it('always starts on or before its last day, and lasts at most a year', () => {
    fc.assert(
      fc.property(anyDay, fc.constantFrom(...NAMED_PERIODS), (today, period) => {
        const range = namedRange(period, today);
        expect(range.from <= range.to, `${period} on ${today}: ${JSON.stringify(range)}`).to.equal(true);
        expect(dayCount(range)).to.be.within(1, 366);
      }),
      { numRuns: 400 },
    );
  });

  it('contains today, except last month, which ends the day before this month starts', () => {
    fc.assert(
      fc.property(anyDay, (today) => {
        for (const period of ['last_30_days', 'this_month', 'this_year'] as const) {
          const range = namedRange(period, today);
          expect(range.to, period).to.equal(today);
          expect(range.from <= today, period).to.equal(true);
        }
        const lastMonth = namedRange('last_month', today);
        expect(addDays(lastMonth.to, 1)).to.equal(firstOfMonth(today));
        expect(lastMonth.from).to.equal(firstOfMonth(lastMonth.to));
      }),
      { numRuns: 400 },
    );
  });

  it('counts 30 days for the last 30 days, and starts this month and this year on their first day', () => {
    fc.assert(
      fc.property(anyDay, (today) => {
        expect(dayCount(namedRange('last_30_days', today))).to.equal(30);
        expect(namedRange('this_month', today).from).to.equal(firstOfMonth(today));
        expect(namedRange('this_year', today).from).to.equal(`${today.slice(0, 4)}-01-01`);
      }),
      { numRuns: 300 },
    );
  });
});
