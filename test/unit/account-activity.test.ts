import { expect } from 'chai';
import fc from 'fast-check';
import { activityOf, ALL_TIME, bucketRanges, QUARTER_HOUR_MS, SPANS, type PostedLine } from '../../src/domain/ledger/account-activity.js';
import { checkHistoryFilter } from '../../src/domain/ledger/account-history.js';

const QUARTER_HOURS_2026 = Date.parse('2026-01-01T00:00:00Z') / QUARTER_HOUR_MS;
/** A quarter-hour within two years of 2026. */
const quarterHour = fc.integer({ min: QUARTER_HOURS_2026, max: QUARTER_HOURS_2026 + 2 * 365 * 96 });
const at = (quarterHours: number) => new Date(quarterHours * QUARTER_HOUR_MS);

describe("an account's activity in buckets", () => {
  it('reads a period as buckets that cover its quarter-hours once each and nothing else, a few of each span', () => {
    fc.assert(
      fc.property(fc.option(quarterHour), fc.option(quarterHour), (from, until) => {
        fc.pre((from !== null || until !== null) && (from === null || until === null || from < until));
        const ranges = bucketRanges({ ...(from === null ? {} : { from: at(from) }), ...(until === null ? {} : { until: at(until) }) });
        // As quarter-hours, end to end from the period's start to its end (an open end is infinite).
        const covered = ranges.map((range) => [range.from * range.span, range.until * range.span] as const).sort(([one], [other]) => one - other);
        expect(covered[0]?.[0]).to.equal(from ?? -Infinity);
        for (const [index, [, end]] of covered.entries()) expect(end).to.equal(covered[index + 1]?.[0] ?? until ?? Infinity);
        expect(ranges.every((range) => range.span !== ALL_TIME && range.from < range.until)).to.equal(true);
        expect(ranges.length).to.be.at.most(2 * SPANS.length - 1);
        const [quarterHours, days] = [ranges.filter((range) => range.span === 1), ranges.filter((range) => range.span === 96)];
        expect(quarterHours.reduce((total, range) => total + range.until - range.from, 0)).to.be.at.most(2 * 95);
        expect(days.reduce((total, range) => total + range.until - range.from, 0)).to.be.at.most(2 * 31);
      }),
    );
  });

  it('reads the whole history as the one bucket since the account was opened', () => {
    expect(bucketRanges({})).to.deep.equal([{ span: ALL_TIME, from: 0, until: 1 }]);
  });

  it('reads the days of the history filter in any time zone, and refuses a period that does not start on a quarter-hour', () => {
    for (const zone of ['Europe/Paris', 'Asia/Kolkata', 'Asia/Kathmandu', 'Pacific/Chatham', 'America/St_Johns']) {
      expect(() => bucketRanges(checkHistoryFilter({ category: '', from: '2026-03-29', to: '2026-10-25' }, zone).filter), zone).not.to.throw();
    }
    expect(() => bucketRanges({ from: new Date('2026-10-01T00:10:00Z') })).to.throw(RangeError, 'not on a quarter-hour');
    expect(() => bucketRanges({ until: new Date('2026-10-01T00:15:00.001Z') })).to.throw(RangeError, 'not on a quarter-hour');
  });

  it("counts a cancellation among the entries when it happens, and takes the job's units back when the job happened", () => {
    const person: PostedLine = { accountId: 7, amount: 120, accountKind: 'user', accountCode: 'user:7' };
    const print: PostedLine = { accountId: 3, amount: -120, accountKind: 'system', accountCode: 'system:usage:print' };
    const job = new Date('2026-10-06T09:00:00Z');
    const rows = activityOf({ createdAt: new Date('2026-10-07T09:20:00Z'), reversedCreatedAt: job, lines: [person, print] });
    const quarterHours = rows.filter((row) => row.span === 1).map(({ activityClass, bucket, entries, usedUnits }) => ({ activityClass, at: at(bucket).toISOString(), entries, usedUnits }));
    expect(quarterHours).to.have.deep.members([
      { activityClass: 'all', at: '2026-10-07T09:15:00.000Z', entries: 1, usedUnits: 0 },
      { activityClass: 'print', at: '2026-10-07T09:15:00.000Z', entries: 1, usedUnits: 0 },
      { activityClass: 'print', at: '2026-10-06T09:00:00.000Z', entries: 0, usedUnits: -120 },
    ]);
    expect(rows.filter((row) => row.span === ALL_TIME).map(({ activityClass, entries, usedUnits }) => ({ activityClass, entries, usedUnits }))).to.have.deep.members([
      { activityClass: 'all', entries: 1, usedUnits: 0 },
      { activityClass: 'print', entries: 1, usedUnits: -120 },
    ]);
    expect(activityOf({ createdAt: job, reversedCreatedAt: null, lines: [{ ...person, accountKind: 'system', accountCode: 'system:bonuses' }, print] })).to.deep.equal([]);
  });
});
