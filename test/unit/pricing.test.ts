import { expect } from 'chai';
import fc from 'fast-check';
import {
  availablePacks,
  parseAmount,
  PricingError,
  quoteFreeAmount,
  quotePack,
  validatePriceList,
  vatIncluded,
  type PriceList,
} from '../../src/domain/pricing/pricing.js';

const NOW = new Date('2026-11-23T12:00:00Z');

const priceList = (): PriceList => ({
  settings: { currency: 'EUR', vatRateBasisPoints: 2000, unitPriceCents: 100 },
  packs: [
    { id: 'pack-10', priceCents: 1000, units: 1000, bonusUnits: 0, enabled: true, validFrom: null, validUntil: null },
    { id: 'pack-20', priceCents: 2000, units: 2000, bonusUnits: 200, enabled: true, validFrom: null, validUntil: null },
    { id: 'hidden', priceCents: 500, units: 500, bonusUnits: 0, enabled: false, validFrom: null, validUntil: null },
    { id: 'winter', priceCents: 3000, units: 3000, bonusUnits: 600, enabled: true, validFrom: new Date('2026-12-01T00:00:00Z'), validUntil: new Date('2027-01-01T00:00:00Z') },
  ],
  freeAmount: { minCents: 200, maxCents: 15_000, stepCents: 50 },
  bonusTiers: [
    { minCents: 2000, bonusBasisPoints: 500, validFrom: null, validUntil: null },
    { minCents: 5000, bonusBasisPoints: 1000, validFrom: null, validUntil: null },
  ],
});

function refusal(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).to.be.instanceOf(PricingError);
    return (error as PricingError).code;
  }
  throw new Error('expected a refusal');
}

describe('pricing rules', () => {
  it('takes the VAT out of prices that include it, to the cent, rounding the net half up', () => {
    expect(vatIncluded(1000, 2000)).to.deep.equal({ netCents: 833, vatCents: 167 });
    expect(vatIncluded(1000, 1960)).to.deep.equal({ netCents: 836, vatCents: 164 }); // Gespage's "Dont TVA 1,64 EUR"
    expect(vatIncluded(600, 2000)).to.deep.equal({ netCents: 500, vatCents: 100 });
    expect(vatIncluded(1, 2000)).to.deep.equal({ netCents: 1, vatCents: 0 }); // 0,0083 → 0,01 net
    expect(vatIncluded(1000, 0)).to.deep.equal({ netCents: 1000, vatCents: 0 });
    expect(vatIncluded(1050, 550)).to.deep.equal({ netCents: 995, vatCents: 55 }); // 995,26… → 995
  });

  it('always splits a price exactly into net and VAT, within half a cent of the exact figure', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 5000 }), (price, rate) => {
        const { netCents, vatCents } = vatIncluded(price, rate);
        expect(netCents + vatCents).to.equal(price);
        const exactNet = (price * 10_000) / (10_000 + rate);
        expect(Math.abs(netCents - exactNet)).to.be.at.most(0.5);
        expect(vatCents).to.be.at.least(0);
      }),
    );
  });

  it('quotes a pack from the server price list, with its bonus', () => {
    expect(quotePack(priceList(), 'pack-20', NOW)).to.deep.equal({
      kind: 'pack',
      packId: 'pack-20',
      currency: 'EUR',
      priceCents: 2000,
      netCents: 1667,
      vatCents: 333,
      vatRateBasisPoints: 2000,
      units: 2000,
      bonusUnits: 200,
    });
  });

  it('offers only enabled packs within their promotion window', () => {
    expect(availablePacks(priceList(), NOW).map((pack) => pack.id)).to.deep.equal(['pack-10', 'pack-20']);
    expect(availablePacks(priceList(), new Date('2026-12-15T00:00:00Z')).map((pack) => pack.id)).to.include('winter');
    expect(availablePacks(priceList(), new Date('2027-01-01T00:00:00Z')).map((pack) => pack.id)).not.to.include('winter');
    for (const id of ['hidden', 'winter', 'nope', undefined, 20, '__proto__']) expect(refusal(() => quotePack(priceList(), id, NOW))).to.equal('unknown_offer');
  });

  it('quotes a free amount at the base rate with the highest bonus tier reached', () => {
    const quote = (cents: number) => quoteFreeAmount(priceList(), cents, NOW);
    expect(quote(1550)).to.include({ priceCents: 1550, units: 1550, bonusUnits: 0, vatCents: 258 });
    expect(quote(2000)).to.include({ units: 2000, bonusUnits: 100 }); // +5 %
    expect(quote(5000)).to.include({ units: 5000, bonusUnits: 500 }); // +10 %
    const odd = { ...priceList(), settings: { ...priceList().settings, unitPriceCents: 30 } };
    expect(quoteFreeAmount(odd, 1000, NOW)).to.include({ units: 3333 }); // 33,33 units, rounded down
  });

  it('refuses free amounts out of range, off step, or when free amounts are not offered', () => {
    expect(refusal(() => quoteFreeAmount(priceList(), 150, NOW))).to.equal('amount_out_of_range');
    expect(refusal(() => quoteFreeAmount(priceList(), 15_050, NOW))).to.equal('amount_out_of_range');
    expect(refusal(() => quoteFreeAmount(priceList(), 1025, NOW))).to.equal('amount_off_step');
    expect(refusal(() => quoteFreeAmount(priceList(), Number.NaN, NOW))).to.equal('invalid_amount');
    expect(refusal(() => quoteFreeAmount({ ...priceList(), freeAmount: null }, 1000, NOW))).to.equal('free_amount_disabled');
  });

  it('never gives fewer units for paying more', () => {
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 300 }), fc.integer({ min: 4, max: 300 }), (a, b) => {
        const [low, high] = [Math.min(a, b) * 50, Math.max(a, b) * 50];
        const total = (cents: number) => {
          const quote = quoteFreeAmount(priceList(), cents, NOW);
          return quote.units + quote.bonusUnits;
        };
        expect(total(high)).to.be.at.least(total(low));
      }),
    );
  });

  it('reads typed amounts strictly', () => {
    expect(parseAmount('12')).to.equal(1200);
    expect(parseAmount(' 12,5 ')).to.equal(1250);
    expect(parseAmount('12.05')).to.equal(1205);
    for (const bad of ['', '-5', '1e2', '12.345', '1 000', 'NaN', 'Infinity', '0x10', '12,', '99999999', '1e309']) {
      expect(refusal(() => parseAmount(bad)), bad).to.equal('invalid_amount');
    }
    expect(refusal(() => parseAmount(undefined))).to.equal('invalid_amount');
    expect(refusal(() => parseAmount(['12']))).to.equal('invalid_amount');
  });

  it('validates a price list and names every problem', () => {
    expect(validatePriceList(priceList())).to.deep.equal(priceList());
    const broken: PriceList = {
      settings: { currency: 'XXX' as 'EUR', vatRateBasisPoints: -1, unitPriceCents: 0 },
      packs: [
        { id: 'a', priceCents: 0, units: 100, bonusUnits: 200, enabled: true, validFrom: new Date(2), validUntil: new Date(1) },
        { id: 'a', priceCents: 100, units: 0, bonusUnits: 0, enabled: true, validFrom: null, validUntil: null },
      ],
      freeAmount: { minCents: 500, maxCents: 100, stepCents: 50 },
      bonusTiers: [
        { minCents: 2000, bonusBasisPoints: 1000, validFrom: null, validUntil: null },
        { minCents: 5000, bonusBasisPoints: 500, validFrom: null, validUntil: null },
      ],
    };
    let message = '';
    try {
      validatePriceList(broken);
    } catch (error) {
      message = (error as Error).message;
    }
    for (const expected of [
      'settings.currency: invalid_currency',
      'settings.vatRateBasisPoints: vat_out_of_range',
      'settings.unitPriceCents: price_out_of_range',
      'packs.0.priceCents: price_out_of_range',
      'packs.0.bonusUnits: bonus_out_of_range',
      'packs.0.validUntil: window_reversed',
      'packs.1.id: duplicate_pack_id',
      'packs.1.units: units_out_of_range',
      'freeAmount.maxCents: max_below_min',
      'bonusTiers.1.bonusBasisPoints: tiers_not_increasing',
    ]) {
      expect(message).to.include(expected);
    }
  });
});
