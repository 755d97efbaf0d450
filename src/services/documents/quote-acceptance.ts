import type { Translate } from '../../i18n/index.js';
import { MAX_ONLINE_PAYMENT_CENTS } from '../../domain/quotes/quote-payment.js';
import type { Quote } from '../../domain/quotes/quotes.js';

/** One paragraph of how to accept a quote; `link`: the address it leads to, which the PDF makes clickable (mail readers link the address in the text). */
export interface AcceptanceParagraph {
  text: string;
  link?: string;
}

/**
 * Where "Payer maintenant" leads: "Recherche de commande" with the number filled in. The address shows
 * nothing by itself (the postcode is still asked), so it may be forwarded, printed or guessed. None for
 * a quote above what may be paid online: the desk takes a bank transfer, and the customer replies.
 */
export function payNowUrl(publicUrl: string, quote: Pick<Quote, 'number' | 'totalCents'>): string | null {
  return quote.totalCents > MAX_ONLINE_PAYMENT_CENTS ? null : `${publicUrl}/quotes/lookup?number=${encodeURIComponent(quote.number)}`;
}

/**
 * How the customer accepts a quote, as its PDF and its mail say it: through "Payer maintenant" (the
 * number filled in, the postcode to type as printed), or, without a link, by replying to the mail with
 * the number and the postcode. Changes are asked for by replying, as the seed's journey says.
 */
export function howToAccept(quote: Pick<Quote, 'number' | 'customer'>, t: Translate, where: 'document' | 'mail', payUrl: string | null): AcceptanceParagraph[] {
  if (payUrl === null) {
    if (where === 'mail') return [{ text: t('quoteMail.accept') }];
    return [{ text: t('quoteDocument.accept.reply') }, { text: t('quoteDocument.accept.references', { number: quote.number, postcode: quote.customer.postcode }) }];
  }
  const payNow = { text: t('quoteLookup.payNow.link', { url: payUrl }), link: payUrl };
  if (where === 'mail') return [{ text: t('quoteLookup.payNow.mail') }, payNow, { text: t('quoteLookup.payNow.mailChanges') }];
  return [{ text: t('quoteLookup.payNow.document') }, payNow, { text: t('quoteLookup.payNow.changes') }];
}
