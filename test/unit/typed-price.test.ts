import { expect } from 'chai';
import fc from 'fast-check';
import { CURRENCIES, parseAmount, PricingError } from '../../src/domain/pricing/pricing.js';
import { OTHER_AMOUNT, topUpChoice } from '../../src/domain/pricing/top-up-choice.js';
import { currencyMarks, parseTypedPrice } from '../../src/domain/pricing/typed-price.js';
import { formatMoney } from '../../src/i18n/format.js';

function refusal(read: () => unknown): string | null {
  try {
    read();
    return null;
  } catch (error) {
    if (error instanceof PricingError) return error.code;
    throw error;
  }
}

describe('a price typed on the top-up page', () => {
  it('reads it as people write it, with or without the currency and with any space', () => {
    const cases: Array<[string, number]> = [
      ['25', 2500],
      ['25,5', 2550],
      ['25,50 €', 2550],
      ['25.50', 2550],
      ['€25.50', 2550],
      ['€ 25.50', 2550],
      ['25,50\u00a0€', 2550],
      ['25,50\u202f€', 2550],
      ['25,50€', 2550],
      ['  25 EUR ', 2500],
      ['eur 25', 2500],
      ['1 234,50 €', 123450],
      ['1\u202f234,50\u202f€', 123450],
      ['€1,234.50', 123450],
      ['1.234,5', 123450],
      ['1 234', 123400],
      ['1,23', 123],
    ];
    for (const [text, cents] of cases) expect(parseTypedPrice(text, 'EUR'), JSON.stringify(text)).to.equal(cents);
  });

  it('refuses garbage, signs, other currencies, a third decimal and groupings that could be decimals', () => {
    const bad = ['', ' ', '€', '-25', '−25', '-€25', '€-25', '25 $', '$25', '25 €€', '25,505', '25.505', '1,234', '1.234', '1 23', '12 345 6', '1,234,50', '1e2', 'NaN', '0x10', '25,50 € 3', '99999999'];
    for (const text of bad) expect(refusal(() => parseTypedPrice(text, 'EUR')), JSON.stringify(text)).to.equal('invalid_amount');
    expect(refusal(() => parseTypedPrice(undefined, 'EUR'))).to.equal('invalid_amount');
    expect(refusal(() => parseTypedPrice(['25'], 'EUR'))).to.equal('invalid_amount');
  });

  it('takes each currency’s own marks only', () => {
    expect(currencyMarks('EUR')).to.deep.equal(['€', 'EUR']);
    expect(parseTypedPrice('$US 25', 'USD')).to.equal(2500);
    expect(parseTypedPrice('CA$25', 'CAD')).to.equal(2500);
    expect(refusal(() => parseTypedPrice('€25', 'USD'))).to.equal('invalid_amount');
  });

  it('reads back every amount the portal shows, in each language and currency', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999_999_999 }), fc.constantFrom(...CURRENCIES), fc.constantFrom('fr' as const, 'en' as const), (cents, currency, locale) => {
        expect(parseTypedPrice(formatMoney(cents, currency, locale), currency)).to.equal(cents);
      }),
    );
  });

  it('reads whatever parseAmount reads, the same', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\s?\d{1,7}([.,]\d{1,2})?\s?$/), (text) => {
        expect(parseTypedPrice(text, 'EUR')).to.equal(parseAmount(text));
      }),
    );
  });
});

describe('what a sent top-up form asks for', () => {
  it('takes the chosen pack, or the typed amount when "Other amount" is chosen', () => {
    expect(topUpChoice('pack-10', '')).to.deep.equal({ kind: 'pack', packId: 'pack-10' });
    expect(topUpChoice(OTHER_AMOUNT, '25')).to.deep.equal({ kind: 'free_amount', amount: '25' });
    expect(topUpChoice(OTHER_AMOUNT, '')).to.deep.equal({ kind: 'free_amount', amount: '' });
  });

  it('counts an amount typed with no offer chosen as "Other amount"', () => {
    expect(topUpChoice('', '25,50 €')).to.deep.equal({ kind: 'free_amount', amount: '25,50 €' });
    expect(topUpChoice('', '  ')).to.deep.equal({ kind: 'none' });
  });

  it('asks again when a pack is chosen and an amount typed', () => {
    expect(topUpChoice('pack-10', '25')).to.deep.equal({ kind: 'pack_and_amount', packId: 'pack-10', amount: '25' });
  });
});
