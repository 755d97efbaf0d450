import { expect } from 'chai';
import { checkDayRange, dayCount, MAX_REPORT_DAYS, periodOf } from '../../src/domain/time/day-range.js';

const DEFAULTS = { from: '2026-11-01', to: '2026-11-23' };

describe('day ranges typed in reports and filters', () => {
  it('takes the defaults for absent ends', () => {
    expect(checkDayRange({ from: undefined, to: undefined }, DEFAULTS, MAX_REPORT_DAYS)).to.deep.equal({ range: DEFAULTS, errors: {} });
    expect(checkDayRange({ from: '2026-11-20', to: undefined }, DEFAULTS, MAX_REPORT_DAYS)).to.deep.equal({ range: { from: '2026-11-20', to: '2026-11-23' }, errors: {} });
    expect(checkDayRange({ from: undefined, to: undefined }, { from: null, to: null }, null)).to.deep.equal({ range: { from: null, to: null }, errors: {} });
  });

  it('refuses days that are not days, on the field that holds them', () => {
    for (const bad of ['', '2026-02-30', '23/11/2026', ['2026-11-01', '2026-11-02'], { a: 1 }]) {
      expect(checkDayRange({ from: bad, to: '2026-11-23' }, DEFAULTS, MAX_REPORT_DAYS).errors, JSON.stringify(bad)).to.deep.equal({ from: 'invalid_day' });
      expect(checkDayRange({ from: '2026-11-01', to: bad }, DEFAULTS, MAX_REPORT_DAYS).errors, JSON.stringify(bad)).to.deep.equal({ to: 'invalid_day' });
    }
  });

  it('refuses a range that ends before it starts, or longer than allowed', () => {
    expect(checkDayRange({ from: '2026-11-24', to: '2026-11-23' }, DEFAULTS, MAX_REPORT_DAYS).errors).to.deep.equal({ to: 'to_before_from' });
    expect(checkDayRange({ from: '2026-11-23', to: '2026-11-23' }, DEFAULTS, MAX_REPORT_DAYS).errors).to.deep.equal({});
    expect(checkDayRange({ from: '2024-01-01', to: '2024-12-31' }, DEFAULTS, MAX_REPORT_DAYS).errors).to.deep.equal({});
    expect(checkDayRange({ from: '2024-01-01', to: '2025-01-01' }, DEFAULTS, MAX_REPORT_DAYS).errors).to.deep.equal({ to: 'too_long' });
    expect(checkDayRange({ from: '2020-01-01', to: '2026-01-01' }, DEFAULTS, null).errors).to.deep.equal({});
  });

  it('counts days across DST changes, both ends included', () => {
    expect(dayCount({ from: '2026-03-01', to: '2026-03-31' })).to.equal(31);
    expect(dayCount({ from: '2026-10-25', to: '2026-10-25' })).to.equal(1);
    expect(dayCount({ from: '2024-01-01', to: '2024-12-31' })).to.equal(366);
  });

  it('covers from the first midnight to the midnight after the last day, ends left open staying open', () => {
    expect(periodOf({ from: '2026-11-01', to: '2026-11-30' }, 'Europe/Paris')).to.deep.equal({ from: new Date('2026-10-31T23:00:00Z'), until: new Date('2026-11-30T23:00:00Z') });
    expect(periodOf({ from: null, to: '2026-07-14' }, 'Europe/Paris')).to.deep.equal({ until: new Date('2026-07-14T22:00:00Z') });
    expect(periodOf({ from: null, to: null }, 'Europe/Paris')).to.deep.equal({});
  });
});
