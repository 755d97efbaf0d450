import { expect } from 'chai';
import fc from 'fast-check';
import { addDays, dayOf, daysBetween, firstOfMonth, parseDay, startOfDay } from '../../src/domain/time/calendar.js';

const ZONES = ['Europe/Paris', 'America/New_York', 'UTC', 'Pacific/Auckland'];

describe('calendar days in a time zone', () => {
  it('puts every instant in the day that starts before it and ends after it', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('2001-01-01T00:00:00Z'), max: new Date('2090-01-01T00:00:00Z'), noInvalidDate: true }), fc.constantFrom(...ZONES), (instant, zone) => {
        const day = dayOf(instant, zone);
        expect(startOfDay(day, zone).getTime()).to.be.at.most(instant.getTime());
        expect(startOfDay(addDays(day, 1), zone).getTime()).to.be.greaterThan(instant.getTime());
        expect(dayOf(startOfDay(day, zone), zone)).to.equal(day);
      }),
      { numRuns: 300 },
    );
  });

  it('knows Paris midnight in winter and summer, and the 23- and 25-hour days', () => {
    expect(startOfDay('2026-11-23', 'Europe/Paris').toISOString()).to.equal('2026-11-22T23:00:00.000Z');
    expect(startOfDay('2026-07-14', 'Europe/Paris').toISOString()).to.equal('2026-07-13T22:00:00.000Z');
    const hours = (day: string) => (startOfDay(addDays(day, 1), 'Europe/Paris').getTime() - startOfDay(day, 'Europe/Paris').getTime()) / 3_600_000;
    expect(hours('2026-03-29')).to.equal(23);
    expect(hours('2026-10-25')).to.equal(25);
  });

  it('refuses days that are not days', () => {
    for (const text of ['2026-02-30', '2026-13-01', '26-01-01', '2026-1-1', '', undefined, ['2026-01-01'], '1999-12-31', '3000-01-01', '9999-12-31']) {
      expect(() => parseDay(text), String(text)).to.throw(/day/);
    }
    expect(parseDay('2028-02-29')).to.equal('2028-02-29');
  });

  it('walks months and ranges', () => {
    expect(firstOfMonth('2026-11-23')).to.equal('2026-11-01');
    expect(daysBetween('2026-12-30', '2027-01-02')).to.deep.equal(['2026-12-30', '2026-12-31', '2027-01-01', '2027-01-02']);
    expect(daysBetween('2026-01-02', '2026-01-01')).to.deep.equal([]);
  });
});
