import { expect } from 'chai';
import fc from 'fast-check';
import { refundVat } from '../../src/domain/checkout/refunds.js';
import { vatIncluded } from '../../src/domain/pricing/pricing.js';
import { MAX_ONLINE_PAYMENT_CENTS, mayPayInUnits, orderVatRateOf, quotePayability } from '../../src/domain/quotes/quote-payment.js';
import type { QuoteStatus } from '../../src/domain/quotes/quote-status.js';
import { quoteTotals } from '../../src/domain/quotes/quote-totals.js';

const quote = (status: QuoteStatus, validUntil = '2026-12-31', totalCents = 4749) => ({ status, totalCents, customer: { validUntil } }) as Parameters<typeof quotePayability>[0];

describe('paying a quote: rules', () => {
  it('lets a sent quote be paid up to and including its last day, and says why any other cannot', () => {
    expect(quotePayability(quote('sent'), '2026-12-31')).to.equal('payable');
    expect(quotePayability(quote('sent'), '2027-01-01')).to.equal('expired');
    expect(quotePayability(quote('expired'), '2026-12-01')).to.equal('expired');
    expect(quotePayability(quote('cancelled'), '2026-12-01')).to.equal('cancelled');
    expect(quotePayability(quote('draft'), '2026-12-01')).to.equal('not_sent');
    for (const paid of ['paid', 'partially_refunded', 'refunded'] as const) expect(quotePayability(quote(paid), '2026-12-01')).to.equal('paid');
    expect(quotePayability(quote('sent', '2026-12-31', MAX_ONLINE_PAYMENT_CENTS), '2026-12-01')).to.equal('payable');
    expect(quotePayability(quote('sent', '2026-12-31', MAX_ONLINE_PAYMENT_CENTS + 1), '2026-12-01')).to.equal('too_large');
  });

  it('records one VAT rate on the order only when every line has it', () => {
    const line = (vatRateBasisPoints: number) => ({ description: 'x', quantity: 1, unitPriceCents: 1000, vatRateBasisPoints });
    expect(orderVatRateOf(quoteTotals([line(2000), line(2000)]))).to.equal(2000);
    expect(orderVatRateOf(quoteTotals([line(2000), line(550)]))).to.equal(0);
  });

  it('offers units only to the person the quote is made out to, when staff set a price in units', () => {
    expect(mayPayInUnits({ userId: 7, unitsPrice: 4000 }, 7)).to.equal(true);
    expect(mayPayInUnits({ userId: 7, unitsPrice: 4000 }, 8)).to.equal(false);
    expect(mayPayInUnits({ userId: 7, unitsPrice: 4000 }, undefined)).to.equal(false);
    expect(mayPayInUnits({ userId: 7, unitsPrice: null }, 7)).to.equal(false);
    expect(mayPayInUnits({ userId: null, unitsPrice: 4000 }, undefined)).to.equal(false);
  });

  it("refunds a quote order's VAT in proportion, and refunds in parts give back exactly the VAT paid once they complete the price, for top-ups too", () => {
    fc.assert(
      fc.property(
        fc.constantFrom('quote' as const, 'pack' as const),
        fc.integer({ min: 1, max: MAX_ONLINE_PAYMENT_CENTS }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 5 }),
        (kind, priceCents, cuts) => {
          const vat = vatIncluded(priceCents, 2000).vatCents;
          const order = { kind, priceCents, vatCents: kind === 'quote' ? Math.floor(vat / 2) : vat, vatRateBasisPoints: kind === 'quote' ? 0 : 2000 };
          const earlier: Array<{ amountCents: number; vatCents: number }> = [];
          let left = priceCents;
          for (const cut of [...cuts, 1]) {
            const amountCents = Math.floor(left * cut);
            if (amountCents === 0 && cut !== 1) continue;
            const part = refundVat(order, amountCents, earlier);
            expect(part.netCents + part.vatCents).to.equal(amountCents);
            expect(part.vatCents).to.be.within(0, amountCents);
            earlier.push({ amountCents, vatCents: part.vatCents });
            left -= amountCents;
          }
          expect(earlier.reduce((sum, refund) => sum + refund.vatCents, 0)).to.equal(order.vatCents);
        },
      ),
      { numRuns: 500 },
    );
    // Two halves of 10,00 € at 20 % (VAT 1,67 €): 0,84 € then the 0,83 € left, not 0,84 € twice.
    const order = { kind: 'quote' as const, priceCents: 1000, vatCents: 167, vatRateBasisPoints: 2000 };
    const first = refundVat(order, 500);
    expect([first.vatCents, refundVat(order, 500, [{ amountCents: 500, vatCents: first.vatCents }]).vatCents]).to.deep.equal([84, 83]);
  });

  it("computes a top-up's refund VAT at its rate, as before", () => {
    expect(refundVat({ kind: 'pack', priceCents: 1000, vatCents: 167, vatRateBasisPoints: 2000 }, 500)).to.deep.equal({ netCents: 417, vatCents: 83 });
  });
});
