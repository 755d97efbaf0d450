import { expect } from 'chai';
import fc from 'fast-check';
import { canonicalQuoteNumber, formatQuoteNumber, lookupKey, sameLookupText } from '../../src/domain/quotes/quote-numbers.js';

describe('quote numbers and lookup texts', () => {
  it('numbers a quote D-<year of the portal day it was made>-<id on six digits>, in its own series', () => {
    expect(formatQuoteNumber(123, '2026-12-08')).to.equal('D-2026-000123');
    expect(formatQuoteNumber(1_234_567, '2027-01-01')).to.equal('D-2027-1234567');
  });

  it('compares numbers as printed, forgiving spaces and case only', () => {
    expect(sameLookupText(' D-2026-000123 ', 'D-2026-000123')).to.equal(true);
    expect(sameLookupText('d-2026-000123', 'D-2026-000123')).to.equal(true);
    expect(sameLookupText('D - 2026 - 000123', 'D-2026-000123')).to.equal(true);
    expect(sameLookupText('d 2026 000123', 'D-2026-000123')).to.equal(false);
    expect(sameLookupText('D-2026-00123', 'D-2026-000123')).to.equal(false);
    expect(sameLookupText('R-2026-000123', 'D-2026-000123')).to.equal(false);
  });

  it('compares postcodes the same way: "75 005" is 75005, "sw1a 1aa" is SW1A1AA, a dash is kept', () => {
    expect(sameLookupText('75 005', '75005')).to.equal(true);
    expect(sameLookupText('sw1a 1aa', 'SW1A 1AA')).to.equal(true);
    expect(lookupKey('sw1a 1aa')).to.equal('SW1A1AA');
    expect(sameLookupText('75005', '75006')).to.equal(false);
    expect(sameLookupText('1000-001', '1000001')).to.equal(false);
    expect(sameLookupText('７５００５', '75005'), 'full-width digits').to.equal(true);
  });

  it('reads back any number it wrote as written, spaces and case forgiven, and nothing from other texts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 999_999_999 }), fc.integer({ min: 2000, max: 2999 }), (id, year) => {
        const number = formatQuoteNumber(id, `${year}-06-01`);
        expect(canonicalQuoteNumber(number)).to.equal(number);
        expect(canonicalQuoteNumber(` ${number.toLowerCase()} `)).to.equal(number);
      }),
    );
    for (const other of ['d 2026 000123', 'R-2026-000123', 'D-2026-123', 'D-26-000123', '', 'D-2026-0000000001']) expect(canonicalQuoteNumber(other), other).to.equal(null);
    expect(canonicalQuoteNumber(123)).to.equal(null);
  });
});
