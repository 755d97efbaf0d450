import { expect } from 'chai';
import { MAX_ONLINE_PAYMENT_CENTS } from '../../src/domain/quotes/quote-payment.js';
import { createTranslations } from '../../src/i18n/index.js';
import { howToAccept, payNowUrl } from '../../src/services/documents/quote-acceptance.js';

const translations = createTranslations();
const quote = { number: 'D-2026-000123', totalCents: 4749, customer: { postcode: '75 005' } } as const;
const customer = { ...quote.customer, name: 'Camille Martin', email: 'camille@example.edu', deliveryMethod: 'post', deliveryAddress: '', validUntil: '2026-12-23', username: null, locale: 'fr' } as const;

describe('how a quote is accepted, in its PDF and its mail', () => {
  it('leads "Payer maintenant" to the lookup with the number filled in, and nothing else', () => {
    expect(payNowUrl('https://print.example.edu', quote)).to.equal('https://print.example.edu/quotes/lookup?number=D-2026-000123');
    expect(payNowUrl('https://print.example.edu', { ...quote, totalCents: MAX_ONLINE_PAYMENT_CENTS })).to.equal('https://print.example.edu/quotes/lookup?number=D-2026-000123');
  });

  it('has no link for a quote above what may be paid online: the customer replies, quoting the number and the postcode', () => {
    expect(payNowUrl('https://print.example.edu', { ...quote, totalCents: MAX_ONLINE_PAYMENT_CENTS + 1 })).to.equal(null);
    const t = translations('fr');
    expect(howToAccept({ ...quote, customer }, t, 'mail', null)).to.deep.equal([{ text: t('quoteMail.accept') }]);
    const document = howToAccept({ ...quote, customer }, t, 'document', null);
    expect(document.map((paragraph) => paragraph.link)).to.deep.equal([undefined, undefined]);
    expect(document[1]!.text).to.include('D-2026-000123').and.include('75 005');
  });

  it('says "Payer maintenant" with its address, linked, then how to ask for changes, in the customer’s language', () => {
    const url = 'https://print.example.edu/quotes/lookup?number=D-2026-000123';
    const french = howToAccept({ ...quote, customer }, translations('fr'), 'mail', url);
    expect(french.map((paragraph) => paragraph.link)).to.deep.equal([undefined, url, undefined]);
    expect(french[1]!.text).to.equal(`Payer maintenant : ${url}`);
    expect(french[2]!.text).to.include('répondez à cet e-mail');
    const english = howToAccept({ ...quote, customer }, translations('en'), 'document', url);
    expect(english[1]).to.deep.equal({ text: `Pay now: ${url}`, link: url });
    expect(english[0]!.text).to.include('delivery postcode exactly as it appears on this quote');
    expect(english[2]!.text).to.include('reply to the e-mail the quote came with');
  });
});
