import { DomainError } from './errors.js';
import type { Hundredths } from './ledger.js';

/** Currencies with two decimals (cents); PayPal's amount `value` is then `12.34`. */
export const CURRENCIES = ['EUR', 'USD', 'GBP', 'CHF', 'CAD'] as const;
export type Currency = (typeof CURRENCIES)[number];

/** Whole cents of the price list's currency. */
export type Cents = number;

export interface PriceSettings {
  currency: Currency;
  /** VAT rate in basis points: 2000 is 20 %. Prices include VAT. */
  vatRateBasisPoints: number;
  /** What one unit costs at the base rate, in cents. */
  unitPriceCents: Cents;
}

/** A validity window for promotions; null bounds are open. `until` is exclusive. */
export interface Validity {
  validFrom: Date | null;
  validUntil: Date | null;
}

export interface Pack extends Validity {
  id: string;
  priceCents: Cents;
  units: Hundredths;
  bonusUnits: Hundredths;
  enabled: boolean;
}

export interface FreeAmount {
  minCents: Cents;
  maxCents: Cents;
  /** Amounts must be whole multiples of the step. */
  stepCents: Cents;
}

export interface BonusTier extends Validity {
  /** The tier applies from this amount (inclusive). */
  minCents: Cents;
  /** +5 % is 500. */
  bonusBasisPoints: number;
}

export interface PriceList {
  settings: PriceSettings;
  packs: Pack[];
  freeAmount: FreeAmount | null;
  bonusTiers: BonusTier[];
}

/** What the person pays and receives; computed on the server only, then frozen on the order. */
export interface Quote {
  kind: 'pack' | 'free_amount';
  packId: string | null;
  currency: Currency;
  priceCents: Cents;
  netCents: Cents;
  vatCents: Cents;
  vatRateBasisPoints: number;
  units: Hundredths;
  bonusUnits: Hundredths;
}

export type PricingErrorCode = 'unknown_offer' | 'invalid_amount' | 'amount_out_of_range' | 'amount_off_step' | 'free_amount_disabled' | 'invalid_price_list';
export class PricingError extends DomainError<PricingErrorCode> {}

const BASIS = 10_000;
const MAX_PRICE_CENTS = 10_000_000; // 100 000,00: far above any top-up, far below integer limits

/**
 * The VAT included in a price: price − price / (1 + rate), to the cent. Rounding rule: the net amount
 * price / (1 + rate) is rounded half up to the cent in exact integer arithmetic, and the VAT is what
 * remains, so net + VAT always equals the price. 10,00 € at 20 %: net 8,33 (8,333…), VAT 1,67.
 */
export function vatIncluded(priceCents: Cents, vatRateBasisPoints: number): { netCents: Cents; vatCents: Cents } {
  const divisor = BASIS + vatRateBasisPoints;
  const netCents = Math.floor((2 * priceCents * BASIS + divisor) / (2 * divisor));
  return { netCents, vatCents: priceCents - netCents };
}

function isValidAt(item: Validity, now: Date): boolean {
  return (item.validFrom === null || item.validFrom <= now) && (item.validUntil === null || now < item.validUntil);
}

/** The packs a person can buy now, in the price list's order. */
export function availablePacks(priceList: PriceList, now: Date): Pack[] {
  return priceList.packs.filter((pack) => pack.enabled && isValidAt(pack, now));
}

/** The bonus for a free amount: the highest tier reached and valid now; bonus units rounded down. */
export function freeAmountBonus(priceList: PriceList, amountCents: Cents, units: Hundredths, now: Date): Hundredths {
  const tier = priceList.bonusTiers
    .filter((candidate) => candidate.minCents <= amountCents && isValidAt(candidate, now))
    .reduce<BonusTier | undefined>((best, candidate) => (!best || candidate.minCents > best.minCents ? candidate : best), undefined);
  return tier ? Math.floor((units * tier.bonusBasisPoints) / BASIS) : 0;
}

export function quotePack(priceList: PriceList, packId: unknown, now: Date): Quote {
  const pack = availablePacks(priceList, now).find((candidate) => candidate.id === packId);
  if (!pack) throw new PricingError('unknown_offer', `no offer ${String(packId)} is available`);
  const { currency, vatRateBasisPoints } = priceList.settings;
  return {
    kind: 'pack',
    packId: pack.id,
    currency,
    priceCents: pack.priceCents,
    ...vatIncluded(pack.priceCents, vatRateBasisPoints),
    vatRateBasisPoints,
    units: pack.units,
    bonusUnits: pack.bonusUnits,
  };
}

/** Units bought with a free amount at the base rate (rounded down to the hundredth), plus the tier bonus. */
export function quoteFreeAmount(priceList: PriceList, amountCents: Cents, now: Date): Quote {
  const free = priceList.freeAmount;
  if (!free) throw new PricingError('free_amount_disabled', 'free amounts are not offered');
  if (!Number.isSafeInteger(amountCents)) throw new PricingError('invalid_amount', 'the amount must be a whole number of cents');
  if (amountCents < free.minCents || amountCents > free.maxCents) {
    throw new PricingError('amount_out_of_range', `the amount must be between ${free.minCents} and ${free.maxCents} cents`);
  }
  if (amountCents % free.stepCents !== 0) throw new PricingError('amount_off_step', `the amount must be a multiple of ${free.stepCents} cents`);
  const { currency, vatRateBasisPoints, unitPriceCents } = priceList.settings;
  const units = Math.floor((amountCents * 100) / unitPriceCents);
  return {
    kind: 'free_amount',
    packId: null,
    currency,
    priceCents: amountCents,
    ...vatIncluded(amountCents, vatRateBasisPoints),
    vatRateBasisPoints,
    units,
    bonusUnits: freeAmountBonus(priceList, amountCents, units, now),
  };
}

/**
 * Reads an amount typed by a person ("12", "12,5", "12.50") as cents. Anything else — signs,
 * exponents, thousands separators, more than two decimals, NaN, huge numbers — is refused.
 */
export function parseAmount(text: unknown): Cents {
  if (typeof text !== 'string') throw new PricingError('invalid_amount', 'the amount is missing');
  const match = /^\s*(\d{1,7})(?:[.,](\d{1,2}))?\s*$/.exec(text);
  if (!match) throw new PricingError('invalid_amount', `"${text.slice(0, 20)}" is not an amount`);
  return Number(match[1]) * 100 + Number((match[2] ?? '0').padEnd(2, '0'));
}

/** Checks a whole price list: what admins will edit, and what demo data seeds. Returns it unchanged. */
export function validatePriceList(priceList: PriceList): PriceList {
  const problems: string[] = [];
  const { currency, vatRateBasisPoints, unitPriceCents } = priceList.settings;
  const wholeIn = (value: number, min: number, max: number) => Number.isSafeInteger(value) && value >= min && value <= max;
  if (!(CURRENCIES as readonly string[]).includes(currency)) problems.push(`currency must be one of ${CURRENCIES.join(', ')}`);
  if (!wholeIn(vatRateBasisPoints, 0, 5_000)) problems.push('the VAT rate must be between 0 and 50 %');
  if (!wholeIn(unitPriceCents, 1, MAX_PRICE_CENTS)) problems.push('the unit price must be positive');
  const ids = new Set<string>();
  for (const pack of priceList.packs) {
    if (!/^[a-z0-9-]{1,40}$/.test(pack.id) || ids.has(pack.id)) problems.push(`pack id ${pack.id} must be unique, a-z 0-9 -`);
    ids.add(pack.id);
    if (!wholeIn(pack.priceCents, 1, MAX_PRICE_CENTS)) problems.push(`pack ${pack.id}: the price must be positive`);
    if (!wholeIn(pack.units, 1, 100_000_000)) problems.push(`pack ${pack.id}: the units must be positive`);
    if (!wholeIn(pack.bonusUnits, 0, pack.units)) problems.push(`pack ${pack.id}: the bonus must be between 0 and the units`);
    if (pack.validFrom && pack.validUntil && pack.validFrom >= pack.validUntil) problems.push(`pack ${pack.id}: the promotion ends before it starts`);
  }
  const free = priceList.freeAmount;
  if (free && !(wholeIn(free.stepCents, 1, MAX_PRICE_CENTS) && wholeIn(free.minCents, free.stepCents, MAX_PRICE_CENTS) && wholeIn(free.maxCents, free.minCents, MAX_PRICE_CENTS))) {
    problems.push('free amount: need 0 < step ≤ minimum ≤ maximum');
  }
  for (const tier of priceList.bonusTiers) {
    if (!wholeIn(tier.minCents, 1, MAX_PRICE_CENTS) || !wholeIn(tier.bonusBasisPoints, 1, BASIS)) problems.push(`bonus tier from ${tier.minCents}: need an amount > 0 and a bonus of 0.01 % to 100 %`);
  }
  const permanent = priceList.bonusTiers.filter((tier) => tier.validFrom === null && tier.validUntil === null).sort((a, b) => a.minCents - b.minCents);
  for (let index = 1; index < permanent.length; index += 1) {
    if (permanent[index]!.bonusBasisPoints <= permanent[index - 1]!.bonusBasisPoints || permanent[index]!.minCents === permanent[index - 1]!.minCents) {
      problems.push('bonus tiers: a higher amount must give a higher bonus');
    }
  }
  if (problems.length > 0) throw new PricingError('invalid_price_list', problems.join('; '));
  return priceList;
}
