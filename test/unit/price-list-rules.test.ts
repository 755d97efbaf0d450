import { expect } from 'chai';
import fc from 'fast-check';
import { dayOf, wallClockOf, zonedInstant } from '../../src/domain/time/calendar.js';
import { DEMO_PRICE_LIST } from '../../src/services/demo/demo.js';
import { PRICE_FORM_PROBLEM_CODES, priceListFormFromBody, priceListFormOf, readPriceListForm, type PriceListForm } from '../../src/domain/pricing/price-list-form.js';
import {
  availableBonusTiers,
  freeAmountBonus,
  MAX_BONUS_TIERS,
  MAX_PACKS,
  priceListProblems,
  PricingError,
  validatePriceList,
  type BonusTier,
  type Pack,
  type PriceList,
  type Validity,
} from '../../src/domain/pricing/pricing.js';
import { loadCatalog, SUPPORTED_LOCALES } from '../../src/i18n/index.js';

const ZONE = 'Europe/Paris';
const at = (iso: string) => new Date(iso);
const open: Validity = { validFrom: null, validUntil: null };
const tier = (minCents: number, bonusBasisPoints: number, window: Validity = open): BonusTier => ({ minCents, bonusBasisPoints, ...window });
const pack = (id: string, priceCents: number, units: number, bonusUnits = 0, window: Validity = open): Pack => ({ id, priceCents, units, bonusUnits, enabled: true, ...window });
const withChanges = (changes: Partial<PriceList>): PriceList => ({ ...DEMO_PRICE_LIST, ...changes });
const problemsOf = (priceList: PriceList) => priceListProblems(priceList).map(({ path, code }) => `${path} ${code}`);

const MINUTE = 60_000;
/** Instants on whole minutes in 2026–2028, what the form can express. */
const minute = fc.integer({ min: Date.parse('2026-01-01T00:00:00Z') / MINUTE, max: Date.parse('2028-12-31T00:00:00Z') / MINUTE }).map((count) => new Date(count * MINUTE));
/** The instants an admin can type: the second pass of an hour the clocks show twice reads as the first. */
const typeable = minute.filter((instant) => {
  const { day, minutes } = wallClockOf(instant, ZONE);
  return zonedInstant(day, minutes, ZONE).getTime() === instant.getTime();
});
const windowArbitrary: fc.Arbitrary<Validity> = fc
  .tuple(fc.option(typeable, { nil: null }), fc.option(typeable, { nil: null }))
  .map(([a, b]) => (a && b && a > b ? { validFrom: b, validUntil: a } : { validFrom: a, validUntil: b }));
const tiersArbitrary = fc.array(
  fc.record({ minCents: fc.constantFrom(1000, 2000, 5000), bonusBasisPoints: fc.constantFrom(300, 500, 1000), window: windowArbitrary }).map(({ minCents, bonusBasisPoints, window }) => tier(minCents, bonusBasisPoints, window)),
  { maxLength: 4 },
);
/** Price lists that follow every rule (tiers that would clash are dropped one by one). */
const validPriceList: fc.Arbitrary<PriceList> = fc
  .record({
    vat: fc.integer({ min: 0, max: 5000 }),
    unit: fc.integer({ min: 1, max: 10_000 }),
    packs: fc.uniqueArray(
      fc.record({ id: fc.stringMatching(/^[a-z0-9-]{1,12}$/), price: fc.integer({ min: 1, max: 10_000_000 }), units: fc.integer({ min: 1, max: 100_000_000 }), bonusShare: fc.double({ min: 0, max: 1, noNaN: true }), enabled: fc.boolean(), window: windowArbitrary }),
      { maxLength: MAX_PACKS, selector: (candidate) => candidate.id },
    ),
    step: fc.integer({ min: 1, max: 1000 }),
    free: fc.option(fc.tuple(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 0, max: 100 })), { nil: null }),
    tiers: tiersArbitrary,
  })
  .map(({ vat, unit, packs, step, free, tiers }) => {
    const kept: BonusTier[] = [];
    for (const candidate of tiers.filter((item) => !(item.validFrom && item.validUntil && item.validFrom >= item.validUntil))) {
      if (priceListProblems(withChanges({ bonusTiers: [...kept, candidate] })).length === 0) kept.push(candidate);
    }
    return {
      settings: { currency: 'EUR' as const, vatRateBasisPoints: vat, unitPriceCents: unit },
      packs: packs
        .filter(({ window }) => !(window.validFrom && window.validUntil && window.validFrom >= window.validUntil))
        .map(({ id, price, units, bonusShare, enabled, window }) => ({ ...pack(id, price, units, Math.floor(units * bonusShare), window), enabled })),
      freeAmount: free ? { stepCents: step, minCents: step * free[0], maxCents: step * (free[0] + free[1]) } : null,
      bonusTiers: kept.slice(0, MAX_BONUS_TIERS),
    };
  });

describe('price list rules', () => {
  it('accepts the demo price list and returns it unchanged', () => {
    expect(priceListProblems(DEMO_PRICE_LIST)).to.deep.equal([]);
    expect(validatePriceList(DEMO_PRICE_LIST)).to.equal(DEMO_PRICE_LIST);
  });

  it('names the field and the rule of every problem', () => {
    const cases: Array<[Partial<PriceList>, string[]]> = [
      [{ settings: { currency: 'XXX' as 'EUR', vatRateBasisPoints: 5001, unitPriceCents: 0 } }, ['settings.currency invalid_currency', 'settings.vatRateBasisPoints vat_out_of_range', 'settings.unitPriceCents price_out_of_range']],
      [{ packs: [pack('a', 0, 100), pack('a', 100, 0), pack('B!', 100, 100, 101)] }, ['packs.0.priceCents price_out_of_range', 'packs.1.id duplicate_pack_id', 'packs.1.units units_out_of_range', 'packs.2.id invalid_pack_id', 'packs.2.bonusUnits bonus_out_of_range']],
      [{ packs: [pack('a', 100, 100, 0, { validFrom: at('2026-12-02T00:00:00Z'), validUntil: at('2026-12-01T00:00:00Z') })] }, ['packs.0.validUntil window_reversed']],
      [{ packs: Array.from({ length: MAX_PACKS + 1 }, (_, index) => pack(`p${index}`, 100, 100)) }, ['packs too_many_packs']],
      [{ freeAmount: { minCents: 225, maxCents: 15_000, stepCents: 50 } }, ['freeAmount.minCents off_step']],
      [{ freeAmount: { minCents: 200, maxCents: 15_025, stepCents: 50 } }, ['freeAmount.maxCents off_step']],
      [{ freeAmount: { minCents: 200, maxCents: 100, stepCents: 50 } }, ['freeAmount.maxCents max_below_min']],
      [{ freeAmount: { minCents: 200, maxCents: 1000, stepCents: 0 } }, ['freeAmount.stepCents price_out_of_range']],
      [{ bonusTiers: [tier(0, 0), tier(100, 10_001)] }, ['bonusTiers.0.minCents price_out_of_range', 'bonusTiers.0.bonusBasisPoints bonus_rate_out_of_range', 'bonusTiers.1.bonusBasisPoints bonus_rate_out_of_range']],
      [{ bonusTiers: [tier(2000, 500), tier(5000, 500)] }, ['bonusTiers.1.bonusBasisPoints tiers_not_increasing']],
      [{ bonusTiers: [tier(5000, 1000), tier(2000, 1000)] }, ['bonusTiers.1.bonusBasisPoints tiers_not_increasing']],
      [{ bonusTiers: [tier(2000, 500), tier(2000, 800, { validFrom: at('2026-12-01T00:00:00Z'), validUntil: null })] }, ['bonusTiers.1.minCents duplicate_tier']],
      [{ bonusTiers: Array.from({ length: MAX_BONUS_TIERS + 1 }, (_, index) => tier((index + 1) * 1000, (index + 1) * 100)) }, ['bonusTiers too_many_tiers']],
    ];
    for (const [changes, expected] of cases) expect(problemsOf(withChanges(changes)), JSON.stringify(changes)).to.deep.equal(expected);
    expect(() => validatePriceList(withChanges({ bonusTiers: [tier(2000, 500), tier(5000, 400)] }))).to.throw(/bonusTiers.1.bonusBasisPoints: tiers_not_increasing/);
  });

  it('lets tiers contradict each other only when they are never valid at the same time', () => {
    const november = { validFrom: at('2026-11-01T00:00:00Z'), validUntil: at('2026-12-01T00:00:00Z') };
    const december = { validFrom: at('2026-12-01T00:00:00Z'), validUntil: at('2027-01-01T00:00:00Z') };
    expect(problemsOf(withChanges({ bonusTiers: [tier(2000, 500, november), tier(2000, 800, december), tier(5000, 600, december)] }))).to.deep.equal([
      'bonusTiers.2.bonusBasisPoints tiers_not_increasing',
    ]);
    expect(problemsOf(withChanges({ bonusTiers: [tier(2000, 500, november), tier(2000, 800, december), tier(5000, 600, november)] }))).to.deep.equal([]);
  });

  it('gives, for a valid price list at any instant, tiers in order and a bonus that never falls as the amount grows', () => {
    fc.assert(
      fc.property(validPriceList, minute, fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 10_000 }), (priceList, now, amount, more) => {
        expect(priceListProblems(priceList)).to.deep.equal([]);
        const tiers = availableBonusTiers(priceList, now);
        for (let index = 1; index < tiers.length; index += 1) {
          expect(tiers[index]!.minCents).to.be.greaterThan(tiers[index - 1]!.minCents);
          expect(tiers[index]!.bonusBasisPoints).to.be.greaterThan(tiers[index - 1]!.bonusBasisPoints);
        }
        const units = (cents: number) => Math.floor((cents * 100) / priceList.settings.unitPriceCents);
        expect(freeAmountBonus(priceList, amount + more, units(amount + more), now)).to.be.at.least(freeAmountBonus(priceList, amount, units(amount), now));
      }),
      { numRuns: 300 },
    );
  });

  it('throws exactly when there are problems', () => {
    fc.assert(
      fc.property(tiersArbitrary, (bonusTiers) => {
        const priceList = withChanges({ bonusTiers });
        if (priceListProblems(priceList).length === 0) expect(validatePriceList(priceList)).to.equal(priceList);
        else expect(() => validatePriceList(priceList)).to.throw(PricingError).with.property('code', 'invalid_price_list');
      }),
      { numRuns: 200 },
    );
  });
});

describe('the price list form', () => {
  const fr = { timeZone: ZONE, decimalSeparator: ',' as const };
  const en = { timeZone: ZONE, decimalSeparator: '.' as const };

  it('reads back exactly the price list it shows, in French and in English', () => {
    fc.assert(
      fc.property(validPriceList, fc.constantFrom(fr, en), (priceList, options) => {
        const form = priceListFormOf(priceList, 7, options);
        expect(form.version).to.equal('7');
        expect(readPriceListForm(form, ZONE)).to.deep.equal({ priceList, problems: [] });
      }),
      { numRuns: 300 },
    );
  });

  it('shows amounts, rates, units and windows as people type them', () => {
    const form = priceListFormOf(
      withChanges({
        settings: { currency: 'EUR', vatRateBasisPoints: 550, unitPriceCents: 10 },
        packs: [pack('noel', 1250, 250, 25, { validFrom: at('2026-11-30T23:00:00Z'), validUntil: at('2026-12-24T17:00:00Z') })],
        bonusTiers: [tier(2000, 1, { validFrom: null, validUntil: at('2026-12-31T23:00:00Z') })],
      }),
      3,
      fr,
    );
    expect(form).to.deep.include({ vatRate: '5,5', unitPrice: '0,10', freeMin: '2,00' });
    expect(form.packs[0]).to.deep.equal({ id: 'noel', position: '1', price: '12,50', units: '2,5', bonus: '0,25', enabled: true, from: '2026-12-01', until: '2026-12-24T18:00', remove: false });
    expect(form.packs[1]).to.deep.include({ id: '', price: '', enabled: true });
    expect(form.tiers[0]).to.deep.equal({ amount: '20,00', bonus: '0,01', from: '', until: '2026-12-31', remove: false });
    expect(form.tiers[1]).to.deep.include({ amount: '' });
  });

  /** The demo list's form with some fields typed over. */
  const typed = (changes: (form: PriceListForm) => void) => {
    const form = priceListFormOf(DEMO_PRICE_LIST, 1, fr);
    changes(form);
    return readPriceListForm(form, ZONE);
  };

  it('moves rows to their new position, before the row there when moved up and after it when moved down', () => {
    const order = (reading: ReturnType<typeof typed>) => reading.priceList?.packs.map((item) => item.id);
    expect(order(typed((form) => Object.assign(form.packs[3]!, { position: '1' })))).to.deep.equal(['pack-50', 'pack-5', 'pack-10', 'pack-20']);
    expect(order(typed((form) => Object.assign(form.packs[0]!, { position: '3' })))).to.deep.equal(['pack-10', 'pack-20', 'pack-5', 'pack-50']);
    expect(order(typed((form) => Object.assign(form.packs[1]!, { remove: true })))).to.deep.equal(['pack-5', 'pack-20', 'pack-50']);
    expect(order(typed((form) => Object.assign(form.packs[4]!, { id: 'new', price: '1', units: '1', position: '' })))).to.deep.equal(['pack-5', 'pack-10', 'pack-20', 'pack-50', 'new']);
  });

  it('reads days as whole days in the portal zone and times as typed', () => {
    const window = (from: string, until: string) => typed((form) => Object.assign(form.packs[0]!, { from, until })).priceList?.packs[0];
    expect(window('2026-12-01', '2026-12-01')).to.deep.include({ validFrom: at('2026-11-30T23:00:00Z'), validUntil: at('2026-12-01T23:00:00Z') });
    expect(window('2026-07-14T08:30', '2026-07-14 20:00')).to.deep.include({ validFrom: at('2026-07-14T06:30:00Z'), validUntil: at('2026-07-14T18:00:00Z') });
    expect(window(' ', '')).to.deep.include(open);
  });

  it('ties every problem to the field it is about, in the rows as sent', () => {
    const reading = typed((form) => {
      Object.assign(form.packs[1]!, { remove: true });
      Object.assign(form.packs[2]!, { id: 'pack-5' });
      Object.assign(form.tiers[1]!, { bonus: '4' });
    });
    expect(reading.problems.map(({ field, code }) => `${field} ${code}`)).to.deep.equal(['pack-2-id duplicate_pack_id', 'tier-1-bonus tiers_not_increasing']);
    const unreadable = typed((form) => Object.assign(form, { vatRate: 'x', unitPrice: '' }) && Object.assign(form.packs[0]!, { units: '1.234', from: '2026-13-01', position: 'a' }));
    expect(unreadable.problems.map(({ field, code }) => `${field} ${code}`)).to.deep.equal([
      'vat-rate invalid_rate',
      'unit-price required',
      'pack-0-position invalid_position',
      'pack-0-units invalid_units',
      'pack-0-from invalid_date',
    ]);
  });

  it('reads only what a browser sends: text, ticked boxes, and rows by number', () => {
    const form = priceListFormFromBody({ version: '4', currency: 'EUR', 'pack-3-id': 'x', 'pack-3-enabled': '1', 'pack-0-id': ['array'], 'tier-25-amount': '1', 'free-enabled': '1', 'vat-rate': 'y'.repeat(100) });
    expect(form.packs.map((row) => [row.id, row.enabled])).to.deep.equal([
      ['', false],
      ['x', true],
    ]);
    expect(form.tiers).to.deep.equal([]);
    expect(form).to.deep.include({ version: '4', freeEnabled: true, unitPrice: '' });
    expect(form.vatRate).to.have.length(40);
  });

  it('has a message for every problem, in every language', () => {
    for (const locale of SUPPORTED_LOCALES) {
      const messages = (loadCatalog(locale).admin as { prices: { errors: Record<string, string> } }).prices.errors;
      expect(PRICE_FORM_PROBLEM_CODES.filter((code) => typeof messages[code] !== 'string'), locale).to.deep.equal([]);
    }
  });
});

describe('wall clocks in the portal zone', () => {
  it('turns a day and a time into the instant, and back', () => {
    fc.assert(
      fc.property(minute, fc.constantFrom('Europe/Paris', 'America/New_York', 'Pacific/Auckland', 'UTC'), (instant, zone) => {
        const { day, minutes } = wallClockOf(instant, zone);
        expect(day).to.equal(dayOf(instant, zone));
        const back = zonedInstant(day, minutes, zone);
        expect(wallClockOf(back, zone)).to.deep.equal({ day, minutes });
        // Only an hour the clocks show twice can give an earlier instant: its first occurrence.
        expect(instant.getTime() - back.getTime()).to.be.oneOf([0, 3_600_000]);
      }),
      { numRuns: 500 },
    );
  });

  it('takes the first of a time shown twice, and the first valid time of a skipped midnight', () => {
    expect(zonedInstant('2026-10-25', 150, ZONE).toISOString()).to.equal('2026-10-25T00:30:00.000Z');
    expect(zonedInstant('2026-03-29', 150, ZONE).toISOString()).to.equal('2026-03-29T01:30:00.000Z');
    expect(zonedInstant('2018-11-04', 0, 'America/Sao_Paulo').toISOString()).to.equal('2018-11-04T03:00:00.000Z');
  });
});
