import { expect } from 'chai';
import fc from 'fast-check';
import { dayOf } from '../../src/domain/time/calendar.js';
import { parseOrderFilters } from '../../src/domain/checkout/order-search.js';

const PARIS = 'Europe/Paris';

describe('orders list filters', () => {
  it('reads nothing as no filter', () => {
    expect(parseOrderFilters({}, PARIS)).to.deep.equal({ typed: {}, search: {}, problems: {} });
    expect(parseOrderFilters({ status: '', from: '', to: '', person: '', min: '', max: '', page: '2' }, PARIS)).to.deep.equal({ typed: {}, search: {}, problems: {} });
  });

  it('reads every filter, the last day included, in the portal time zone', () => {
    const parsed = parseOrderFilters({ status: 'paid', from: '2026-11-01', to: ' 2026-11-30 ', person: ' Alice.M ', min: '12,5', max: '100' }, PARIS);
    expect(parsed.problems).to.deep.equal({});
    expect(parsed.typed).to.deep.equal({ status: 'paid', from: '2026-11-01', to: '2026-11-30', person: 'Alice.M', min: '12,5', max: '100' });
    expect(parsed.search).to.deep.equal({
      status: 'paid',
      from: new Date('2026-10-31T23:00:00Z'),
      until: new Date('2026-11-30T23:00:00Z'),
      person: 'alice.m',
      minCents: 1250,
      maxCents: 10_000,
    });
  });

  it('reports each bad value against its field', () => {
    const problems = (query: Record<string, unknown>) => parseOrderFilters(query, PARIS).problems;
    expect(problems({ status: 'lost' })).to.deep.equal({ status: 'status' });
    expect(problems({ status: ['paid', 'created'] })).to.deep.equal({ status: 'status' });
    expect(problems({ from: '2026-02-29', to: '31/12/2026' })).to.deep.equal({ from: 'day', to: 'day' });
    expect(problems({ from: '2026-11-02', to: '2026-11-01' })).to.deep.equal({ to: 'toBeforeFrom' });
    expect(problems({ from: '2026-11-01', to: '2026-11-01' })).to.deep.equal({});
    expect(problems({ person: 'a b' })).to.deep.equal({ person: 'person' });
    expect(problems({ person: 'a%' })).to.deep.equal({ person: 'person' });
    expect(problems({ person: 'x'.repeat(100) })).to.deep.equal({});
    expect(problems({ person: 'x'.repeat(101) })).to.deep.equal({ person: 'person' });
    expect(problems({ min: 'douze', max: '1.234' })).to.deep.equal({ min: 'amount', max: 'amount' });
    expect(problems({ min: '10', max: '9,99' })).to.deep.equal({ max: 'maxBelowMin' });
    expect(problems({ min: '10', max: '10' })).to.deep.equal({});
  });

  it('finds every order of a day between from and to of that same day', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('2001-01-01T00:00:00Z'), max: new Date('2090-01-01T00:00:00Z'), noInvalidDate: true }), (instant) => {
        const day = dayOf(instant, PARIS);
        const { search, problems } = parseOrderFilters({ from: day, to: day }, PARIS);
        expect(problems).to.deep.equal({});
        expect(search.from!.getTime()).to.be.at.most(instant.getTime());
        expect(search.until!.getTime()).to.be.greaterThan(instant.getTime());
      }),
      { numRuns: 200 },
    );
  });
});
