import { availableBonusTiers, availablePacks, type PriceList } from '../domain/pricing/pricing.js';
import type { TermsVersion } from '../services/pricing/records.js';
import { formatMoney, formatPercent } from '../i18n/format.js';
import type { Locale, Translate } from '../i18n/index.js';

export type TopUpFieldErrors = Partial<Record<'offer' | 'amount' | 'terms', string>>;

export interface TopUpPageInput {
  priceList: PriceList;
  terms: TermsVersion | null;
  /** The offers shown are those valid at this instant. */
  now: Date;
  t: Translate;
  locale: Locale;
  form?: {
    offer?: string;
    amount?: string;
    errors?: TopUpFieldErrors;
    notice?: string | null;
    /** Why no order was placed (a limit), with the person's orders waiting for payment. */
    refusal?: string;
    openOrders?: Array<{ number: string; amount: string }>;
  };
  /** An admin's preview: the same page, with a form that sends nothing. */
  preview?: boolean;
}

/** What views/pages/topup.ejs shows for a price list: the top-up page and the admin's preview of a draft both come from here. */
export function topUpPageLocals({ priceList, terms, now, t, locale, form = {}, preview = false }: TopUpPageInput) {
  const money = (cents: number) => formatMoney(cents, priceList.settings.currency, locale);
  return {
    title: t('topup.title'),
    packs: availablePacks(priceList, now),
    freeAmount: priceList.freeAmount,
    bonusTiers: availableBonusTiers(priceList, now).map((tier) => t('topup.bonusTier', { amount: money(tier.minCents), percent: formatPercent(tier.bonusBasisPoints, locale) })),
    currency: priceList.settings.currency,
    money,
    terms,
    offer: form.offer ?? '',
    amount: form.amount ?? '',
    errors: form.errors ?? {},
    notice: form.notice ?? null,
    refusal: form.refusal ?? null,
    openOrders: form.openOrders ?? [],
    preview,
  };
}
