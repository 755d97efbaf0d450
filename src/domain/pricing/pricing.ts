import { DomainError } from '../shared/errors.js';
import type { Hundredths } from '../ledger/ledger.js';

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

/** The bonus tiers in force now, from the lowest amount up. */
export function availableBonusTiers(priceList: PriceList, now: Date): BonusTier[] {
  return priceList.bonusTiers.filter((tier) => isValidAt(tier, now)).sort((a, b) => a.minCents - b.minCents);
}

/** The bonus for a free amount: the highest tier reached and valid now; bonus units rounded down. */
export function freeAmountBonus(priceList: PriceList, amountCents: Cents, units: Hundredths, now: Date): Hundredths {
  const tier = availableBonusTiers(priceList, now)
    .filter((candidate) => candidate.minCents <= amountCents)
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

/**
 * How many packs and bonus tiers a price list holds at most: beyond that the top-up page stops being a
 * quick choice. The admin form sends every row in one POST, within the /admin body limits (src/app.ts).
 */
export const MAX_PACKS = 12;
export const MAX_BONUS_TIERS = 10;
const MAX_UNITS = 100_000_000; // 1 000 000,00 units

export const PRICE_LIST_PROBLEM_CODES = [
  'invalid_currency',
  'vat_out_of_range',
  'price_out_of_range',
  'invalid_pack_id',
  'duplicate_pack_id',
  'units_out_of_range',
  'bonus_out_of_range',
  'window_reversed',
  'too_many_packs',
  'off_step',
  'max_below_min',
  'bonus_rate_out_of_range',
  'too_many_tiers',
  'duplicate_tier',
  'tiers_not_increasing',
] as const;
export type PriceListProblemCode = (typeof PRICE_LIST_PROBLEM_CODES)[number];

/**
 * One broken rule of a price list: where (a property path such as `packs.2.priceCents`), which rule,
 * and the numbers a message needs — `…Cents` are amounts in the list's currency, `…BasisPoints` rates,
 * `…Units` hundredths of a unit.
 */
export interface PriceListProblem {
  path: string;
  code: PriceListProblemCode;
  params?: Record<string, string | number>;
}

const wholeIn = (value: number, min: number, max: number) => Number.isSafeInteger(value) && value >= min && value <= max;

const isReversed = (item: Validity) => item.validFrom !== null && item.validUntil !== null && item.validFrom >= item.validUntil;

/** Some instant lies in both windows (`until` is exclusive). */
function overlap(a: Validity, b: Validity): boolean {
  const startsBeforeEnd = (start: Date | null, end: Date | null) => start === null || end === null || start < end;
  return startsBeforeEnd(a.validFrom, b.validUntil) && startsBeforeEnd(b.validFrom, a.validUntil);
}

/** Every rule a price list breaks, in the order of its fields; none when it can be published. */
export function priceListProblems(priceList: PriceList): PriceListProblem[] {
  const problems: PriceListProblem[] = [];
  const add = (path: string, code: PriceListProblemCode, params?: PriceListProblem['params']) => problems.push({ path, code, ...(params ? { params } : {}) });
  const price = (path: string, value: number) => {
    if (!wholeIn(value, 1, MAX_PRICE_CENTS)) add(path, 'price_out_of_range', { maxCents: MAX_PRICE_CENTS });
  };
  const window = (path: string, item: Validity) => {
    if (isReversed(item)) add(`${path}.validUntil`, 'window_reversed');
  };

  const { currency, vatRateBasisPoints, unitPriceCents } = priceList.settings;
  if (!(CURRENCIES as readonly string[]).includes(currency)) add('settings.currency', 'invalid_currency');
  if (!wholeIn(vatRateBasisPoints, 0, 5_000)) add('settings.vatRateBasisPoints', 'vat_out_of_range', { maxBasisPoints: 5_000 });
  price('settings.unitPriceCents', unitPriceCents);

  if (priceList.packs.length > MAX_PACKS) add('packs', 'too_many_packs', { max: MAX_PACKS });
  const ids = new Set<string>();
  priceList.packs.forEach((pack, index) => {
    const path = `packs.${index}`;
    if (!/^[a-z0-9-]{1,40}$/.test(pack.id)) add(`${path}.id`, 'invalid_pack_id');
    else if (ids.has(pack.id)) add(`${path}.id`, 'duplicate_pack_id', { id: pack.id });
    ids.add(pack.id);
    price(`${path}.priceCents`, pack.priceCents);
    if (!wholeIn(pack.units, 1, MAX_UNITS)) add(`${path}.units`, 'units_out_of_range', { maxUnits: MAX_UNITS });
    if (!wholeIn(pack.bonusUnits, 0, Math.max(pack.units, 0))) add(`${path}.bonusUnits`, 'bonus_out_of_range');
    window(path, pack);
  });

  const free = priceList.freeAmount;
  if (free) {
    price('freeAmount.stepCents', free.stepCents);
    price('freeAmount.minCents', free.minCents);
    price('freeAmount.maxCents', free.maxCents);
    const step = wholeIn(free.stepCents, 1, MAX_PRICE_CENTS) ? free.stepCents : null;
    if (step && free.minCents % step !== 0) add('freeAmount.minCents', 'off_step', { stepCents: step });
    if (free.maxCents < free.minCents) add('freeAmount.maxCents', 'max_below_min');
    else if (step && free.maxCents % step !== 0) add('freeAmount.maxCents', 'off_step', { stepCents: step });
  }

  if (priceList.bonusTiers.length > MAX_BONUS_TIERS) add('bonusTiers', 'too_many_tiers', { max: MAX_BONUS_TIERS });
  priceList.bonusTiers.forEach((tier, index) => {
    const path = `bonusTiers.${index}`;
    price(`${path}.minCents`, tier.minCents);
    if (!wholeIn(tier.bonusBasisPoints, 1, BASIS)) add(`${path}.bonusBasisPoints`, 'bonus_rate_out_of_range');
    window(path, tier);
    // Among the tiers valid at one same instant, a higher amount must give a higher bonus; the same
    // amount twice would leave the bonus to chance. Checked against every earlier tier it overlaps.
    const clash = priceList.bonusTiers.slice(0, index).find((other) => !isReversed(other) && !isReversed(tier) && overlap(tier, other) && !inOrder(other, tier));
    if (!clash) return;
    if (clash.minCents === tier.minCents) add(`${path}.minCents`, 'duplicate_tier', { amountCents: tier.minCents });
    else {
      const [lower, higher] = clash.minCents < tier.minCents ? [clash, tier] : [tier, clash];
      add(`${path}.bonusBasisPoints`, 'tiers_not_increasing', {
        lowerAmountCents: lower.minCents,
        lowerBonusBasisPoints: lower.bonusBasisPoints,
        higherAmountCents: higher.minCents,
        higherBonusBasisPoints: higher.bonusBasisPoints,
      });
    }
  });
  return problems;
}

/** Two tiers agree when the one from the higher amount gives the higher bonus. */
const inOrder = (a: BonusTier, b: BonusTier) =>
  a.minCents !== b.minCents && a.bonusBasisPoints !== b.bonusBasisPoints && a.minCents < b.minCents === a.bonusBasisPoints < b.bonusBasisPoints;

/** Checks a whole price list: what admins publish, and what demo data seeds. Returns it unchanged. */
export function validatePriceList(priceList: PriceList): PriceList {
  const problems = priceListProblems(priceList);
  if (problems.length > 0) throw new PricingError('invalid_price_list', problems.map((problem) => `${problem.path}: ${problem.code}`).join('; '));
  return priceList;
}
