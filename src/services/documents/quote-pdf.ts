import { formatDateTime, formatDay } from '../../i18n/format.js';
import { COLUMN, DETAILS, MARGIN, startDocument, WIDTH, type DocumentRendering } from './document-layout.js';
import type { QuoteDocumentView } from './document-view.js';
import { howToAccept, payNowUrl } from './quote-acceptance.js';
import { drawQuoteLines, drawQuoteTotals } from './quote-table.js';

/** The totals and the acceptance block, kept together on one page. */
const CLOSING_HEIGHT = 240;

/**
 * A quote as an A4 PDF in `locale`, on as many pages as its lines need: the references the customer
 * will be asked for (the number, the delivery postcode), seller and customer, delivery, the lines with
 * quantities and prices incl. VAT, the VAT of each rate and the total, and how to accept it.
 */
export function renderQuotePdf(view: QuoteDocumentView, { t, locale, timeZone, publicUrl, branding }: DocumentRendering): Promise<Buffer> {
  const { document, quote, totals } = view;
  const layout = startDocument({ title: t('quoteDocument.title'), number: document.number, seller: document.seller, issuedAt: document.issuedAt }, { t, locale, branding });
  const { write, heading, pairs, party, sellerLines, bodyTop, finish } = layout;
  const { customer } = quote;

  let y = bodyTop;
  y =
    pairs(
      [
        [t('quoteDocument.number'), quote.number],
        [t('quoteDocument.issuedAt'), formatDateTime(document.issuedAt, locale, timeZone)],
        [t('quoteDocument.validUntil'), formatDay(customer.validUntil, locale)],
        [t('quoteDocument.postcode'), customer.postcode],
      ],
      MARGIN,
      y,
      DETAILS.width,
      DETAILS.label,
    ) + 16;

  // Seller and customer as they were when the quote was sent.
  const { seller, buyer } = document;
  y = Math.max(party(t('documents.seller'), seller.name, sellerLines(), MARGIN, y), party(t('documents.buyer'), buyer.name, [buyer.email], MARGIN + COLUMN + 20, y)) + 16;

  y = heading(t('quoteDocument.delivery'), MARGIN, y, WIDTH);
  y = write(t(`quoteDocument.deliveryMethod.${customer.deliveryMethod}`), MARGIN, y, { width: WIDTH });
  if (customer.deliveryAddress) y = write(customer.deliveryAddress, MARGIN, y + 2, { width: WIDTH });
  y += 18;

  const table = { t, locale, currency: quote.currency };
  y = drawQuoteLines(layout, totals, y, table, CLOSING_HEIGHT);
  y = drawQuoteTotals(layout, totals, y, table) + 20;

  y = heading(t('quoteDocument.accept.heading'), MARGIN, y, WIDTH);
  for (const { text, link } of howToAccept(quote, t, 'document', payNowUrl(publicUrl, quote))) {
    if (!link) {
      y = write(text, MARGIN, y, { width: WIDTH }) + 4;
      continue;
    }
    // "Payer maintenant" is clickable on screen; printed, its address stands on a line of its own, to be typed whole.
    y = write(text.replace(` ${link}`, `\n${link}`), MARGIN, y, { width: WIDTH, link, underline: true, colour: branding.accentColour }) + 4;
  }
  return finish();
}
