import { expect } from 'chai';
import fc from 'fast-check';
import { parseVatRate, QuoteDraftError, validateQuoteDraft, type QuoteDraftInput, type QuoteProblem } from '../../src/domain/quotes/quote-draft.js';

const TODAY = '2026-12-08';
const valid: QuoteDraftInput = {
  name: '  Camille Martin ',
  email: 'c.martin@example.edu',
  postcode: '75 005',
  deliveryMethod: 'post',
  deliveryAddress: '12 rue des Écoles\n75005 Paris',
  validUntil: '2027-01-07',
  username: '',
  staffNote: '',
  locale: 'en',
  lines: [
    { description: 'Thèse, impression couleur', quantity: '3', unitPrice: '12,50', vatRate: '20' },
    { description: '', quantity: '1', unitPrice: '', vatRate: '20' },
    { description: 'Reliure thermocollée', quantity: '3', unitPrice: '4.5', vatRate: '5,5' },
  ],
};

const problemsOf = (input: QuoteDraftInput): QuoteProblem[] => {
  try {
    validateQuoteDraft(input, TODAY);
  } catch (error) {
    if (error instanceof QuoteDraftError) return [...error.problems];
    throw error;
  }
  return [];
};

describe('quote drafts', () => {
  it('reads a draft as typed: trimmed texts, cents, basis points, blank rows left out', () => {
    const draft = validateQuoteDraft(valid, TODAY);
    expect(draft.customer).to.deep.equal({
      name: 'Camille Martin',
      email: 'c.martin@example.edu',
      postcode: '75 005',
      deliveryMethod: 'post',
      deliveryAddress: '12 rue des Écoles\n75005 Paris',
      validUntil: '2027-01-07',
      username: null,
      locale: 'en',
    });
    expect(draft.staffNote).to.equal('');
    expect(draft.unitsPrice).to.equal(null);
    expect(draft.lines).to.deep.equal([
      { description: 'Thèse, impression couleur', quantity: 3, unitPriceCents: 1_250, vatRateBasisPoints: 2000 },
      { description: 'Reliure thermocollée', quantity: 3, unitPriceCents: 450, vatRateBasisPoints: 550 },
    ]);
  });

  it('reports every broken rule at once, each against its field, lines by the row they were typed in', () => {
    const problems = problemsOf({
      name: '',
      email: 'not an address',
      postcode: '75005!',
      deliveryMethod: 'drone',
      deliveryAddress: '',
      validUntil: '2026-12-07',
      username: 'Ünïcode name',
      staffNote: 'x'.repeat(1001),
      locale: 'de',
      lines: [
        { description: 'Affiche', quantity: '-3', unitPrice: '10', vatRate: '20' },
        { description: 'Poster', quantity: '1.5', unitPrice: '-2', vatRate: '60' },
        { description: 'x'.repeat(301), quantity: '100001', unitPrice: '100000,01', vatRate: '' },
        { description: 'Tab\there', quantity: '', unitPrice: '1e3', vatRate: '5,555' },
      ],
    });
    expect(problems).to.deep.equal([
      { field: 'name', code: 'required' },
      { field: 'email', code: 'invalid' },
      { field: 'postcode', code: 'invalid' },
      { field: 'deliveryMethod', code: 'invalid' },
      { field: 'validUntil', code: 'past' },
      { field: 'username', code: 'invalid' },
      { field: 'staffNote', code: 'too_long' },
      { field: 'locale', code: 'invalid' },
      { field: 'lines.0.quantity', code: 'invalid' },
      { field: 'lines.1.quantity', code: 'invalid' },
      { field: 'lines.1.unitPrice', code: 'invalid' },
      { field: 'lines.1.vatRate', code: 'invalid' },
      { field: 'lines.2.description', code: 'too_long' },
      { field: 'lines.2.quantity', code: 'invalid' },
      { field: 'lines.2.unitPrice', code: 'invalid' },
      { field: 'lines.2.vatRate', code: 'required' },
      { field: 'lines.3.description', code: 'control_characters' },
      { field: 'lines.3.quantity', code: 'required' },
      { field: 'lines.3.unitPrice', code: 'invalid' },
      { field: 'lines.3.vatRate', code: 'invalid' },
    ]);
  });

  it('asks for an address unless the customer picks the job up, and for at least one line', () => {
    expect(problemsOf({ ...valid, deliveryAddress: '  ' })).to.deep.equal([{ field: 'deliveryAddress', code: 'required' }]);
    expect(problemsOf({ ...valid, deliveryMethod: 'pickup', deliveryAddress: '' })).to.deep.equal([]);
    expect(problemsOf({ ...valid, lines: [{ description: ' ', quantity: '1', unitPrice: '', vatRate: '20' }] })).to.deep.equal([{ field: 'lines', code: 'no_lines' }]);
    const many = Array.from({ length: 31 }, () => ({ description: 'Copie', quantity: '1', unitPrice: '0,10', vatRate: '20' }));
    expect(problemsOf({ ...valid, lines: many })).to.deep.equal([{ field: 'lines', code: 'too_many_lines' }]);
    const huge = Array.from({ length: 2 }, () => ({ description: 'Tirage', quantity: '100000', unitPrice: '100000', vatRate: '20' }));
    expect(problemsOf({ ...valid, lines: huge })).to.deep.equal([{ field: 'lines', code: 'total_too_large' }]);
  });

  it('keeps the customer fields within their limits and free of control characters', () => {
    expect(problemsOf({ ...valid, name: 'a'.repeat(201) })).to.deep.equal([{ field: 'name', code: 'too_long' }]);
    expect(problemsOf({ ...valid, name: 'Camille\u0000' })).to.deep.equal([{ field: 'name', code: 'control_characters' }]);
    expect(problemsOf({ ...valid, deliveryAddress: 'a\u0007b' })).to.deep.equal([{ field: 'deliveryAddress', code: 'control_characters' }]);
    expect(problemsOf({ ...valid, postcode: '12345678901234567' })).to.deep.equal([{ field: 'postcode', code: 'too_long' }]);
    expect(problemsOf({ ...valid, postcode: 'SW1A 1AA' })).to.deep.equal([]);
    expect(problemsOf({ ...valid, postcode: '1000-001' })).to.deep.equal([]);
    expect(problemsOf({ ...valid, validUntil: TODAY })).to.deep.equal([]);
    expect(problemsOf({ ...valid, validUntil: '2027-02-30' })).to.deep.equal([{ field: 'validUntil', code: 'invalid' }]);
    expect(problemsOf({ ...valid, username: ' Etudiant ' })).to.deep.equal([]);
    expect(validateQuoteDraft({ ...valid, username: ' Etudiant ' }, TODAY).customer.username).to.equal('etudiant');
    expect(problemsOf({ ...valid, email: undefined })).to.deep.equal([{ field: 'email', code: 'required' }]);
  });

  it('takes only whole quantities from 1 to 100 000 and prices from 0 to 100 000,00, whatever is typed', () => {
    const row = (quantity: string, unitPrice: string) => problemsOf({ ...valid, lines: [{ description: 'Copie', quantity, unitPrice, vatRate: '20' }] });
    fc.assert(
      fc.property(fc.string(), (typed) => {
        const problems = row(typed, '1');
        const whole = /^\s*\d{1,6}\s*$/.test(typed) && Number(typed) >= 1 && Number(typed) <= 100_000;
        expect(problems.length === 0, JSON.stringify(typed)).to.equal(whole);
      }),
    );
    expect(row('100000', '1')).to.deep.equal([]);
    expect(row('1', '100000,00')).to.deep.equal([]);
    expect(row('1', '100000,01')).to.deep.equal([{ field: 'lines.0.unitPrice', code: 'invalid' }]);
    expect(row('1', '0')).to.deep.equal([{ field: 'lines', code: 'total_zero' }]);
    for (const quantity of ['0', '-1', '2.5', '1e3', '100001', '0x10']) expect(row(quantity, '1'), quantity).to.deep.equal([{ field: 'lines.0.quantity', code: 'invalid' }]);
  });

  it('reads VAT rates in per cent as basis points, up to 50 %', () => {
    expect([parseVatRate('20'), parseVatRate('5,5'), parseVatRate('2.10'), parseVatRate('0'), parseVatRate('50')]).to.deep.equal([2000, 550, 210, 0, 5000]);
    for (const refused of ['50,01', '-5', '5,555', '', 'vingt', undefined, 20]) expect(parseVatRate(refused), String(refused)).to.equal(null);
  });

  it('refuses a quote totalling 0,00, but takes free lines beside paid ones', () => {
    const free = { description: 'Maquette offerte', quantity: '1', unitPrice: '0', vatRate: '20' };
    expect(problemsOf({ ...valid, lines: [free, free] })).to.deep.equal([{ field: 'lines', code: 'total_zero' }]);
    expect(problemsOf({ ...valid, lines: [free, { description: 'Tirage', quantity: '1', unitPrice: '0,01', vatRate: '20' }] })).to.deep.equal([]);
  });

  it('reports a field sent twice (an array) as repeated, for every field, never with a message of its own', () => {
    for (const field of ['name', 'email', 'postcode', 'deliveryMethod', 'deliveryAddress', 'validUntil', 'username', 'unitsPrice', 'staffNote', 'locale'] as const) {
      expect(problemsOf({ ...valid, [field]: ['a', 'b'] }), field).to.deep.equal([{ field, code: 'repeated' }]);
    }
    for (const field of ['description', 'quantity', 'unitPrice', 'vatRate'] as const) {
      expect(problemsOf({ ...valid, lines: [{ ...valid.lines[0], [field]: ['1', '2'] }] }), field).to.deep.equal([{ field: `lines.0.${field}`, code: 'repeated' }]);
    }
    // Whatever else a body parser may make of a field, the problem is one the form has a message for.
    for (const field of ['name', 'deliveryAddress', 'staffNote', 'username']) {
      expect(problemsOf({ ...valid, [field]: { nested: 'x' } }), field).to.deep.equal([{ field, code: 'invalid' }]);
    }
  });

  it('refuses bidi, zero-width and Unicode line-separator characters in every field; the address and note keep ordinary line breaks', () => {
    const invisible = ['\u200B', '\u200E', '\u200F', '\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069', '\uFEFF', '\u2028', '\u2029'];
    for (const character of invisible) {
      const code = `U+${character.codePointAt(0)!.toString(16).toUpperCase()}`;
      for (const field of ['name', 'email', 'postcode', 'deliveryAddress', 'staffNote'] as const) {
        const typed = field === 'email' ? `c.martin${character}@example.edu` : field === 'postcode' ? `75${character}005` : `Camille${character}Martin`;
        expect(problemsOf({ ...valid, [field]: typed }), `${code} in ${field}`).to.deep.equal([{ field, code: 'control_characters' }]);
      }
      expect(problemsOf({ ...valid, lines: [{ ...valid.lines[0], description: `Thèse${character}couleur` }] }), `${code} in a description`).to.deep.equal([{ field: 'lines.0.description', code: 'control_characters' }]);
    }
    expect(problemsOf({ ...valid, name: 'Camille\nMartin' })).to.deep.equal([{ field: 'name', code: 'control_characters' }]);
    const draft = validateQuoteDraft({ ...valid, deliveryAddress: '12 rue des Écoles\r\n75005 Paris', staffNote: 'Papier 100 g\nRecto verso' }, TODAY);
    expect([draft.customer.deliveryAddress, draft.staffNote]).to.deep.equal(['12 rue des Écoles\r\n75005 Paris', 'Papier 100 g\nRecto verso']);
  });

  it('takes a validity date from today to a year ahead', () => {
    expect(problemsOf({ ...valid, validUntil: '2027-12-08' })).to.deep.equal([]);
    expect(problemsOf({ ...valid, validUntil: '2027-12-09' })).to.deep.equal([{ field: 'validUntil', code: 'too_far' }]);
  });

  it('keeps the staff note apart from the customer, and checks the person named by a username through the caller', () => {
    const draft = validateQuoteDraft({ ...valid, staffNote: ' Client pressé ', username: ' Etudiant ' }, TODAY);
    expect(draft.staffNote).to.equal('Client pressé');
    expect(draft.customer).not.to.have.property('staffNote');
    let asked = '';
    try {
      validateQuoteDraft({ ...valid, username: ' Etudiant ', name: '' }, TODAY, (username) => ((asked = username), false));
      expect.fail('an unknown person is refused');
    } catch (error) {
      expect((error as QuoteDraftError).problems).to.deep.equal([
        { field: 'name', code: 'required' },
        { field: 'username', code: 'unknown_person' },
      ]);
    }
    expect(problemsOf({ ...valid, username: 'personne' })).to.deep.equal([]);
    expect(() => validateQuoteDraft({ ...valid, username: 'Personne' }, TODAY, (username) => ((asked = username), false))).to.throw(QuoteDraftError, 'username: unknown_person');
    expect(asked).to.equal('personne');
  });

  describe('the price in units for the quote’s person', () => {
    const forPerson = { ...valid, username: 'etudiant' };
    const unitsPriceOf = (unitsPrice: unknown, input: QuoteDraftInput = forPerson) => validateQuoteDraft({ ...input, unitsPrice }, TODAY).unitsPrice;

    it('reads units as typed in either language, in hundredths; empty offers none', () => {
      expect([unitsPriceOf('49,60'), unitsPriceOf(' 49.6 '), unitsPriceOf('0,01'), unitsPriceOf('1000')]).to.deep.equal([4_960, 4_960, 1, 100_000]);
      for (const none of ['', '   ', undefined, null]) expect(unitsPriceOf(none), String(none)).to.equal(null);
    });

    it('gives back every amount of hundredths it can hold, written with a comma or a point', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 999_999_999 }), fc.constantFrom('.', ','), (hundredths, separator) => {
          const typed = `${Math.trunc(hundredths / 100)}${separator}${String(hundredths % 100).padStart(2, '0')}`;
          expect(unitsPriceOf(typed)).to.equal(hundredths);
        }),
      );
    });

    it('refuses zero, signs, exponents, more than two decimals and anything else, as invalid', () => {
      for (const typed of ['0', '0,00', '-5', '+5', '1e3', '12,345', '1 000', 'dix', '10000000', { nested: '1' }]) {
        expect(problemsOf({ ...forPerson, unitsPrice: typed }), JSON.stringify(typed)).to.deep.equal([{ field: 'unitsPrice', code: 'invalid' }]);
      }
    });

    it('needs a person of the portal, and blames only the username when the one typed is wrong', () => {
      expect(problemsOf({ ...valid, username: '', unitsPrice: '10' })).to.deep.equal([{ field: 'unitsPrice', code: 'no_person' }]);
      expect(problemsOf({ ...valid, username: 'Ünïcode name', unitsPrice: '10' })).to.deep.equal([{ field: 'username', code: 'invalid' }]);
      expect(problemsOf({ ...valid, username: '', unitsPrice: '' })).to.deep.equal([]);
    });
  });
});
