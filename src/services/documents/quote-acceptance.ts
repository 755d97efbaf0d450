import type { Translate } from '../../i18n/index.js';
import type { Quote } from '../../domain/quotes/quotes.js';

/**
 * How the customer accepts a quote, as its PDF and its mail say it. Quotes are not paid online yet,
 * so the customer replies to the mail, quoting the number and the delivery postcode. This is the one
 * place the "Payer maintenant" link goes once they are.
 */
export function howToAccept(quote: Pick<Quote, 'number' | 'customer'>, t: Translate, where: 'document' | 'mail'): string[] {
  if (where === 'mail') return [t('quoteMail.accept')];
  return [t('quoteDocument.accept.reply'), t('quoteDocument.accept.references', { number: quote.number, postcode: quote.customer.postcode })];
}
