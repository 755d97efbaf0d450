import { expect } from 'chai';
import fc from 'fast-check';
import { checkHistoryFilter } from '../../src/domain/ledger/account-history.js';
import { summarizeUsage, wholePercentages } from '../../src/domain/ledger/usage-summary.js';

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
const amounts = fc.array(fc.integer({ min: 0, max: 100_000_000 }), { minLength: 1, maxLength: 8 });

describe('usage shares in whole percent', () => {
  it('add up to exactly 100 whenever something was used', () => {
    fc.assert(
      fc.property(amounts, (values) => {
        fc.pre(sum(values) > 0);
        expect(sum(wholePercentages(values))).to.equal(100);
      }),
    );
  });

  it('are all 0 when nothing was used', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), (length) => {
        expect(wholePercentages(Array.from({ length }, () => 0))).to.deep.equal(Array.from({ length }, () => 0));
      }),
    );
  });

  it('are each the exact share rounded down or up, and a larger use never gets a smaller share', () => {
    fc.assert(
      fc.property(amounts, (values) => {
        const total = sum(values);
        fc.pre(total > 0);
        const percentages = wholePercentages(values);
        values.forEach((value, index) => {
          const exact = (value * 100) / total;
          expect(percentages[index]).to.be.within(Math.floor(exact), Math.ceil(exact));
          values.forEach((other, otherIndex) => {
            if (value > other) expect(percentages[index]).to.be.at.least(percentages[otherIndex]!);
          });
        });
      }),
    );
  });

  it('give the missing points to the largest remainders, the earlier first on a tie', () => {
    expect(wholePercentages([1, 1, 1])).to.deep.equal([34, 33, 33]);
    expect(wholePercentages([300, 50, 25, 15])).to.deep.equal([77, 13, 6, 4]);
    expect(wholePercentages([5, 0, 0, 0])).to.deep.equal([100, 0, 0, 0]);
    expect(wholePercentages([999, 1])).to.deep.equal([100, 0]);
  });

  it('refuse negative or fractional amounts rather than show nonsense', () => {
    expect(() => wholePercentages([5, -1])).to.throw(RangeError);
    expect(() => wholePercentages([0.5, 1])).to.throw(RangeError);
  });

  it('summarize every category in order, absent ones as nothing used', () => {
    expect(summarizeUsage({ copy: 50, print: 300, fax: 15, scan: 25 })).to.deep.equal({
      total: 390,
      categories: [
        { category: 'print', units: 300, percent: 77 },
        { category: 'copy', units: 50, percent: 13 },
        { category: 'scan', units: 25, percent: 6 },
        { category: 'fax', units: 15, percent: 4 },
      ],
    });
    expect(summarizeUsage({}).categories.map((usage) => [usage.units, usage.percent])).to.deep.equal([
      [0, 0],
      [0, 0],
      [0, 0],
      [0, 0],
    ]);
  });
});

describe('the account history filter as typed', () => {
  const check = (input: Partial<Record<'category' | 'from' | 'to', unknown>>) => checkHistoryFilter({ category: undefined, from: undefined, to: undefined, ...input }, 'Europe/Paris');

  it('filters nothing when the fields are absent or left empty', () => {
    expect(check({})).to.deep.equal({ filter: {}, range: { from: null, to: null }, errors: {} });
    expect(check({ category: '', from: '', to: '' })).to.deep.equal({ filter: {}, range: { from: null, to: null }, errors: {} });
  });

  it('takes a category and whole days of the time zone, the last day included', () => {
    expect(check({ category: 'top_up' }).filter).to.deep.equal({ category: 'top_up' });
    expect(check({ category: 'fax', from: '2026-10-01', to: '2026-10-31' }).filter).to.deep.equal({
      category: 'fax',
      from: new Date('2026-09-30T22:00:00Z'),
      until: new Date('2026-10-31T23:00:00Z'),
    });
    expect(check({ to: '2026-10-31' }).filter).to.deep.equal({ until: new Date('2026-10-31T23:00:00Z') });
  });

  it('names the field in error: an unknown category, a day that does not exist, an end before the start', () => {
    for (const category of ['usage', 'PRINT', ['print', 'copy'], 'reversal']) expect(check({ category }).errors, JSON.stringify(category)).to.deep.equal({ category: 'unknown_category' });
    expect(check({ from: '2026-02-30' }).errors).to.deep.equal({ from: 'invalid_day' });
    expect(check({ to: ['2026-10-01', '2026-10-02'] }).errors).to.deep.equal({ to: 'invalid_day' });
    expect(check({ from: '2026-10-02', to: '2026-10-01' }).errors).to.deep.equal({ to: 'to_before_from' });
    expect(check({ from: '2026-10-01', to: '2026-10-01' }).errors).to.deep.equal({});
  });
});
