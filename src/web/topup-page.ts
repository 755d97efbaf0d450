import { availableBonusTiers, availablePacks, PricingError, quoteFreeAmount, quotePack, type PriceList, type Quote } from '../domain/pricing/pricing.js';
import { OTHER_AMOUNT, topUpChoice, type TopUpChoice } from '../domain/pricing/top-up-choice.js';
import { currencyMarks, parseTypedPrice } from '../domain/pricing/typed-price.js';
import type { Hundredths } from '../domain/ledger/ledger.js';
import type { TermsVersion } from '../services/pricing/records.js';
import { formatMoney, formatPercent, formatUnits } from '../i18n/format.js';
import type { Locale, Translate } from '../i18n/index.js';

export type TopUpFieldErrors = Partial<Record<'offer' | 'amount' | 'terms', string>>;

export interface TopUpPageInput {
  priceList: PriceList;
  terms: TermsVersion | null;
  /** The offers shown are those valid at this instant. */
  now: Date;
  t: Translate;
  locale: Locale;
  /** The person's units now, for "balance after" (null: not shown, as in an admin's preview or when credits go to a print system). */
  balance?: Hundredths | null;
  form?: {
    offer?: string;
    amount?: string;
    /** The terms' box was ticked when the form was sent: the page shown again keeps it so. */
    termsAccepted?: boolean;
    errors?: TopUpFieldErrors;
    notice?: string | null;
    /** Why no order was placed (a limit), with the person's orders waiting for payment. */
    refusal?: string;
    openOrders?: Array<{ number: string; amount: string }>;
  };
  /** An admin's preview: the same page, with a form that sends nothing. */
  preview?: boolean;
}

/** An amount as the field's hint writes it, for an example of what can be typed. */
const EXAMPLE_CENTS = 2550;

/** What the form asks for, priced by the domain's rules; null while it asks for nothing that can be priced. */
function quoteOf(priceList: PriceList, now: Date, choice: TopUpChoice): Quote | null {
  try {
    if (choice.kind === 'pack') return quotePack(priceList, choice.packId, now);
    if (choice.kind === 'free_amount') return quoteFreeAmount(priceList, parseTypedPrice(choice.amount, priceList.settings.currency), now);
    return null;
  } catch (error) {
    if (error instanceof PricingError) return null;
    throw error;
  }
}

/** What views/pages/topup.ejs shows for a price list: the top-up page and the admin's preview of a draft both come from here. */
export function topUpPageLocals({ priceList, terms, now, t, locale, balance = null, form = {}, preview = false }: TopUpPageInput) {
  const { currency, unitPriceCents } = priceList.settings;
  const money = (cents: number) => formatMoney(cents, currency, locale);
  const units = (amount: Hundredths) => formatUnits(t, amount, locale);
  const bonusTiers = availableBonusTiers(priceList, now);
  const offer = form.offer ?? '';
  const amount = form.amount ?? '';
  const choice = topUpChoice(offer, amount);
  const quote = quoteOf(priceList, now, choice);
  return {
    title: t('topup.title'),
    packs: availablePacks(priceList, now),
    freeAmount: priceList.freeAmount,
    bonusTiers: bonusTiers.map((tier) => t('topup.bonusTier', { amount: money(tier.minCents), percent: formatPercent(tier.bonusBasisPoints, locale) })),
    currency,
    money,
    terms,
    balance,
    // A typed amount with no offer chosen is "Other amount": the page shows it chosen.
    offer: choice.kind === 'free_amount' ? OTHER_AMOUNT : offer,
    amount,
    // Unticked again when the terms were the problem (a newer version, say).
    termsAccepted: (form.termsAccepted ?? false) && !form.errors?.terms,
    summary: quote && {
      price: money(quote.priceCents),
      units: units(quote.units),
      bonus: units(quote.bonusUnits),
      balanceAfter: balance === null ? null : units(balance + quote.units + quote.bonusUnits),
    },
    // What the page's script needs to redo the summary as the person chooses (the server prices the order).
    summaryData: {
      locale,
      currency,
      currencyMarks: currencyMarks(currency).join(' '),
      unitPriceCents,
      bonusTiers: bonusTiers.map((tier) => `${tier.minCents}:${tier.bonusBasisPoints}`).join(' '),
      unitsOne: t('units.one', { value: '{value}' }),
      unitsOther: t('units.other', { value: '{value}' }),
      balance,
    },
    exampleAmount: money(EXAMPLE_CENTS),
    errors: form.errors ?? {},
    notice: form.notice ?? null,
    refusal: form.refusal ?? null,
    openOrders: form.openOrders ?? [],
    preview,
  };
}
