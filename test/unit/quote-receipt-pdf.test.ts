import { expect } from 'chai';
import { renderDocumentPdf } from '../../src/services/documents/document-pdf.js';
import type { DocumentView } from '../../src/services/documents/document-view.js';
import { MAX_QUOTE_LINES, quoteTotals } from '../../src/domain/quotes/quote-totals.js';
import { createTranslations } from '../../src/i18n/index.js';
import { readPdf } from '../helpers/pdf-text.js';

const t = createTranslations()('fr');
const seller = { name: 'Université Exemple', address: '1 rue de la Paix\n75002 Paris', vatNumber: '', email: 'reprographie@univ.example' };

/** The most lines a quote may have, with descriptions long enough to wrap, at two rates. */
const lines = Array.from({ length: MAX_QUOTE_LINES }, (_, index) => ({
  description: `Ligne ${index + 1} : impression couleur A3 sur papier recyclé 120 g, pliage et agrafage, ${'finitions '.repeat(index % 4)}`.trim(),
  quantity: index + 1,
  unitPriceCents: 150 + index,
  vatRateBasisPoints: index % 2 === 0 ? 2000 : 550,
}));

/** One more of these lines than the first page holds (14), so that they end at every height of it, its foot included. */
const FIRST_PAGE_AND_MORE = 15;

/** The receipt of a quote of these lines, paid through PayPal (its order records no single rate: 0). */
const receiptOf = (paid: typeof lines): DocumentView => {
  const totals = quoteTotals(paid);
  return {
    document: {
      id: 1,
      kind: 'receipt',
      number: 'RC-000042',
      seriesNumber: 42,
      orderId: 7,
      quoteId: null,
      refundId: null,
      issuedAt: new Date('2026-11-23T10:00:05Z'),
      locale: 'fr',
      buyer: { name: 'Camille Martin', username: '', email: 'camille.martin@example.edu' },
      seller,
      brand: null,
    },
    order: {
      number: 'R-2026-000007',
      kind: 'quote',
      currency: 'EUR',
      priceCents: totals.totalCents,
      netCents: totals.netCents,
      vatCents: totals.vatCents,
      vatRateBasisPoints: 0,
      units: 0,
      bonusUnits: 0,
      paypalCaptureId: 'CAPTURE-7HX81',
      paidAt: new Date('2026-11-23T10:00:00Z'),
    },
    paidQuote: { number: 'D-2026-000123', totals },
    boughtCodes: null,
    refund: null,
    receiptNumber: null,
  };
};

/** The receipt of a quote paid with `paid` as its lines, read back. */
const render = async (paid: typeof lines) =>
  readPdf(await renderDocumentPdf(receiptOf(paid), { t, locale: 'fr', timeZone: 'Europe/Paris', publicUrl: 'https://recharge.example.edu', branding: { organisationName: 'Université Exemple', accentColour: '#6d1a36', logoPng: null } }));

describe('the receipt of a quote with many lines', () => {
  it('runs the lines onto more pages, the column titles above them on each, the totals and the payment together on the last', async () => {
    const { text, lines: printed, pages } = await render(lines);
    expect(pages).to.be.greaterThan(1);
    const pageTexts = text.split('\n\n');
    expect(pageTexts).to.have.length(pages);
    for (const [index, page] of pageTexts.entries()) {
      expect(page, `page ${index + 1}`).to.include(`page ${index + 1}/${pages}`);
      if (page.includes('\nLigne ')) expect(page, `page ${index + 1}`).to.include('Désignation Qté Prix unit. TTC TVA Total TTC');
    }
    for (const [index] of lines.entries()) expect(printed.some((line) => line.startsWith(`Ligne ${index + 1} :`)), `line ${index + 1}`).to.equal(true);
    expect(text).not.to.include('Unités').and.not.to.include('TVA (0 %)');
  });

  it('never splits the totals and the payment over two pages, wherever the lines end on the first (the others are laid out alike)', async () => {
    let pages: string[] = [];
    for (let count = 1; count <= FIRST_PAGE_AND_MORE; count += 1) {
      pages = (await render(lines.slice(0, count))).text.split('\n\n');
      const last = pages.at(-1)!;
      for (const expected of ['Montant HT', 'TVA 20 % sur', 'Paiement', 'Mode de paiement PayPal', 'Transaction PayPal CAPTURE-7HX81', 'Payé le']) expect(last, `${count} lines`).to.include(expected);
      if (count > 1) expect(last, `${count} lines`).to.include('TVA 5,5 % sur');
      expect(last, `${count} lines`).to.match(/^Total TTC \d[\d ]*,\d{2} €$/m);
    }
    // The last of them ran onto a second page: the lines ended at every height of the first.
    expect(pages[1]).to.include('\nLigne ');
  });
});
