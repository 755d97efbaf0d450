import { expect } from 'chai';
import fc from 'fast-check';
import { vatIncluded } from '../../src/domain/pricing/pricing.js';
import { MAX_QUANTITY, MAX_QUOTE_TOTAL_CENTS, MAX_UNIT_PRICE_CENTS, MAX_VAT_RATE_BASIS_POINTS, quoteTotals, QuoteTotalError, type QuoteLine } from '../../src/domain/quotes/quote-totals.js';

const TYPICAL_RATES = [2000, 1000, 550, 210, 0];

const lineUpTo = (maxQuantity: number, maxUnitPriceCents: number) =>
  fc.record({
    description: fc.constant('Impression'),
    quantity: fc.oneof(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: maxQuantity })),
    unitPriceCents: fc.oneof(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: maxUnitPriceCents })),
    vatRateBasisPoints: fc.oneof(fc.constantFrom(...TYPICAL_RATES), fc.integer({ min: 0, max: MAX_VAT_RATE_BASIS_POINTS })),
  });
/** Thirty lines of at most 1 000 × 3 000,00 stay within the most a quote may total. */
const quotable = fc.array(lineUpTo(1_000, 300_000), { minLength: 1, maxLength: 30 });
/** Lines within every bound of a line: most such quotes total more than a quote may. */
const anyLines = fc.array(lineUpTo(MAX_QUANTITY, MAX_UNIT_PRICE_CENTS), { minLength: 1, maxLength: 30 });
const grossOf = (quoteLines: readonly QuoteLine[]) => quoteLines.reduce((sum, one) => sum + one.quantity * one.unitPriceCents, 0);

describe('quote totals', () => {
  it('computes line totals, then VAT per rate on each rate’s summed gross by the top-ups’ rule', () => {
    const totals = quoteTotals([
      { description: 'Thèse, impression couleur', quantity: 3, unitPriceCents: 1_250, vatRateBasisPoints: 2000 },
      { description: 'Reliure', quantity: 3, unitPriceCents: 333, vatRateBasisPoints: 550 },
      { description: 'Poster A0', quantity: 1, unitPriceCents: 1_000, vatRateBasisPoints: 2000 },
    ]);
    expect(totals.lines.map((one) => one.totalCents)).to.deep.equal([3_750, 999, 1_000]);
    expect(totals.vatRates).to.deep.equal([
      { vatRateBasisPoints: 2000, grossCents: 4_750, netCents: 3_958, vatCents: 792 },
      { vatRateBasisPoints: 550, grossCents: 999, netCents: 947, vatCents: 52 },
    ]);
    expect(totals).to.include({ totalCents: 5_749, netCents: 4_905, vatCents: 844 });
  });

  it('for any lines: per rate net + VAT is the gross, their sum the total; nothing negative; the order of lines changes nothing', () => {
    fc.assert(
      fc.property(quotable.chain((quoteLines) => fc.tuple(fc.constant(quoteLines), fc.shuffledSubarray(quoteLines, { minLength: quoteLines.length }))), ([quoteLines, shuffled]) => {
        expect(grossOf(quoteLines)).to.be.at.most(MAX_QUOTE_TOTAL_CENTS);
        const totals = quoteTotals(quoteLines);
        for (const rate of totals.vatRates) {
          expect(rate.netCents + rate.vatCents).to.equal(rate.grossCents);
          expect(rate).to.deep.include(vatIncluded(rate.grossCents, rate.vatRateBasisPoints));
          expect(rate.netCents).to.be.at.least(0);
          expect(rate.vatCents).to.be.at.least(0);
        }
        expect(totals.vatRates.reduce((sum, rate) => sum + rate.netCents + rate.vatCents, 0)).to.equal(totals.totalCents);
        expect(totals.netCents + totals.vatCents).to.equal(totals.totalCents);
        expect(totals.totalCents).to.equal(grossOf(quoteLines));
        expect(new Set(totals.vatRates.map((rate) => rate.vatRateBasisPoints)).size).to.equal(totals.vatRates.length);
        for (const value of [totals.totalCents, totals.netCents, totals.vatCents]) expect(Number.isSafeInteger(value) && value >= 0).to.equal(true);
        const again = quoteTotals(shuffled);
        expect({ ...again, lines: [] }).to.deep.equal({ ...totals, lines: [] });
      }),
    );
  });

  it('refuses a quote totalling more than the most a quote may, whose VAT the integer rule could not compute exactly', () => {
    fc.assert(
      fc.property(anyLines, (quoteLines) => {
        if (grossOf(quoteLines) <= MAX_QUOTE_TOTAL_CENTS) expect(quoteTotals(quoteLines).totalCents).to.equal(grossOf(quoteLines));
        else expect(() => quoteTotals(quoteLines)).to.throw(QuoteTotalError);
      }),
    );
    const atMost = { description: 'Gros tirage', quantity: 1_000, unitPriceCents: MAX_QUOTE_TOTAL_CENTS / 1_000, vatRateBasisPoints: 2000 };
    expect(quoteTotals([atMost]).totalCents).to.equal(MAX_QUOTE_TOTAL_CENTS);
    expect(() => quoteTotals([atMost, { ...atMost, quantity: 1, unitPriceCents: 1 }])).to.throw(QuoteTotalError, 'a quote totals at most');
  });
});
