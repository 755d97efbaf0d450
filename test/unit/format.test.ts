import { expect } from 'chai';
import fc from 'fast-check';
import { formatDateTime, formatHundredths, pluralCategory } from '../../src/i18n/format.js';

describe('formatting amounts and dates', () => {
  it('writes hundredths of a unit the French and the English way', () => {
    expect(formatHundredths(4960, 'fr')).to.equal('49,60');
    expect(formatHundredths(4960, 'en')).to.equal('49.60');
    expect(formatHundredths(123_456_789, 'en')).to.equal('1,234,567.89');
    expect(formatHundredths(123_456_789, 'fr')).to.equal('1\u202f234\u202f567,89');
    expect(formatHundredths(-5, 'en')).to.equal('−0.05');
    expect(formatHundredths(1000, 'fr', { signed: true })).to.equal('+10,00');
    expect(formatHundredths(0, 'fr', { signed: true })).to.equal('0,00');
  });

  it('is exact for every integer amount (no floating point on the way)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), (amount) => {
        const text = formatHundredths(amount, 'en').replace(/,/g, '').replace('−', '-');
        const sign = amount < 0 ? '-' : '';
        const magnitude = BigInt(Math.abs(amount));
        expect(text).to.equal(`${sign}${magnitude / 100n}.${String(magnitude % 100n).padStart(2, '0')}`);
      }),
    );
  });

  it('chooses singular and plural as each language does for decimals', () => {
    expect(pluralCategory(150, 'fr')).to.equal('one'); // 1,50 unité
    expect(pluralCategory(200, 'fr')).to.equal('other');
    expect(pluralCategory(100, 'en')).to.equal('other'); // 1.00 units
  });

  it('shows dates in the configured time zone', () => {
    const date = new Date('2026-11-23T23:30:00Z');
    expect(formatDateTime(date, 'fr', 'Europe/Paris')).to.equal('24 nov. 2026, 00:30');
    expect(formatDateTime(date, 'en', 'UTC')).to.equal('Nov 23, 2026, 11:30 PM');
  });
});
