import type { RequestHandler } from 'express';
import type { Config } from '../config.js';
import type { Hundredths } from '../domain/ledger/ledger.js';
import { descriptionWording } from '../domain/ledger/transaction-descriptions.js';
import { canUseQuoteDesk } from '../domain/quotes/quote-desk.js';
import { formatDateTime, formatDay, formatHundredths, formatMoney, formatUnits } from '../i18n/format.js';
import type { Locale, Translate } from '../i18n/index.js';

/** A posting's description in the reader's language: the portal's own words translated, anything else as stored. */
export function describeTransaction(t: Translate, description: string | null): string | null {
  const wording = descriptionWording(description);
  return wording ? t(`ledgerDescriptions.${wording.key}`, wording.params) : description;
}

/** Formatting helpers for the views, bound to the request's language. */
export function viewHelpers(config: Config): RequestHandler {
  return (request, response, next) => {
    const locale = response.locals.locale as Locale;
    const t = response.locals.t as Translate;
    response.locals.formatUnits = (amount: Hundredths) => formatUnits(t, amount, locale);
    response.locals.formatDelta = (amount: Hundredths) => formatHundredths(amount, locale, { signed: true });
    response.locals.formatNumber = (amount: Hundredths) => formatHundredths(amount, locale);
    response.locals.formatMoney = (cents: number, currency: string) => formatMoney(cents, currency, locale);
    response.locals.formatDateTime = (date: Date) => formatDateTime(date, locale, config.i18n.timeZone);
    response.locals.formatDay = (day: string) => formatDay(day, locale);
    response.locals.describeTransaction = (description: string | null) => describeTransaction(t, description);
    response.locals.currentPath = request.originalUrl;
    response.locals.user ??= undefined;
    response.locals.canUseQuoteDesk = canUseQuoteDesk(request.user);
    next();
  };
}
