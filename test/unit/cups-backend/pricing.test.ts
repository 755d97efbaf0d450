import { expect } from 'chai';
import fc from 'fast-check';
import { formatUnits, hundredthsOf, jobCost, pricePerPage, type PagePrices } from '../../../src/cups-backend/pricing.js';

const prices: PagePrices = { mono: { simplex: 10, duplex: 8 }, colour: { simplex: 50, duplex: 45 } };
const priceTables = fc.record({
  mono: fc.record({ simplex: fc.nat(10_000), duplex: fc.nat(10_000) }),
  colour: fc.option(fc.record({ simplex: fc.nat(10_000), duplex: fc.nat(10_000) }), { nil: undefined }),
});
const modes = fc.record({ colour: fc.boolean(), duplex: fc.boolean() });

describe('CUPS backend: pricing', () => {
  it('converts prices with at most two decimals, once, and refuses more', () => {
    expect(hundredthsOf(0.1)).to.equal(10);
    expect(hundredthsOf(0.29)).to.equal(29);
    expect(hundredthsOf(1.1)).to.equal(110);
    expect(hundredthsOf(0)).to.equal(0);
    for (const refused of [0.105, 0.1 + 0.2, -0.1, Number.NaN, Infinity, 1e-7]) expect(hundredthsOf(refused), String(refused)).to.equal(null);
  });

  it('prices a page by colour and sides; a mono-only table prices colour as mono', () => {
    expect(pricePerPage(prices, { colour: true, duplex: true })).to.equal(45);
    expect(pricePerPage(prices, { colour: false, duplex: false })).to.equal(10);
    expect(pricePerPage({ mono: prices.mono }, { colour: true, duplex: false })).to.equal(10);
    expect(jobCost(prices, { colour: false, duplex: true }, 3, 2)).to.equal(48);
    expect(jobCost(prices, { colour: true, duplex: false }, 3, 1)).to.equal(150);
  });

  it('costs an integer, nothing for no pages, and more for more pages or copies', () => {
    fc.assert(
      fc.property(priceTables, modes, fc.nat(5_000), fc.integer({ min: 1, max: 999 }), fc.nat(100), fc.nat(100), (table, mode, pages, copies, morePages, moreCopies) => {
        const cost = jobCost(table, mode, pages, copies);
        expect(Number.isSafeInteger(cost)).to.equal(true);
        expect(jobCost(table, mode, 0, copies)).to.equal(0);
        expect(jobCost(table, mode, pages + morePages, copies)).to.be.at.least(cost);
        expect(jobCost(table, mode, pages, copies + moreCopies)).to.be.at.least(cost);
      }),
    );
  });

  it('writes units for people with two decimals', () => {
    expect([formatUnits(30), formatUnits(10), formatUnits(-150), formatUnits(0), formatUnits(123456)]).to.deep.equal(['0.30', '0.10', '-1.50', '0.00', '1234.56']);
  });
});
