import { expect } from 'chai';
import { checkHistoryForm } from '../../src/domain/ledger/account-history.js';

const TODAY = '2026-11-23';
const check = (input: Partial<Record<'period' | 'category' | 'from' | 'to', unknown>>) =>
  checkHistoryForm({ period: undefined, category: undefined, from: undefined, to: undefined, ...input }, TODAY, 'Europe/Paris');

describe('the history form: a period by name or by days, and a category', () => {
  it('reads no period and no days as everything', () => {
    for (const input of [{}, { period: '' }, { period: 'all', from: '2026-01-01' }, { from: '', to: '' }]) {
      const { period, range, filter, errors } = check(input);
      expect({ period, range, filter, errors }, JSON.stringify(input)).to.deep.equal({ period: 'all', range: { from: null, to: null }, filter: {}, errors: {} });
    }
  });

  it("reads a named period as its days up to today, in the portal's zone, whatever days were typed beside it", () => {
    const { period, range, filter, errors } = check({ period: 'last_month', from: '2020-01-01', to: 'nonsense', category: 'print' });
    expect(errors).to.deep.equal({});
    expect(period).to.equal('last_month');
    expect(range).to.deep.equal({ from: '2026-10-01', to: '2026-10-31' });
    expect(filter).to.deep.equal({ category: 'print', from: new Date('2026-09-30T22:00:00Z'), until: new Date('2026-10-31T23:00:00Z') });
  });

  it('reads days typed without a period as a custom period, as links made before periods had names do', () => {
    expect(check({ from: '2026-10-01' })).to.include({ period: 'custom' });
    expect(check({ from: '2026-10-01' }).range).to.deep.equal({ from: '2026-10-01', to: null });
    expect(check({ period: 'custom', from: '', to: '2026-09-10' }).range).to.deep.equal({ from: null, to: '2026-09-10' });
  });

  it('refuses a period that is not one, and the custom days as before', () => {
    expect(check({ period: 'yesterday' }).errors).to.deep.equal({ period: 'unknown_period' });
    expect(check({ period: ['this_month', 'last_month'] }).errors).to.deep.equal({ period: 'unknown_period' });
    expect(check({ period: 'custom', from: '2026-10-02', to: '2026-10-01' }).errors).to.deep.equal({ to: 'to_before_from' });
    expect(check({ period: 'this_month', category: 'usage' }).errors).to.deep.equal({ category: 'unknown_category' });
  });
});
