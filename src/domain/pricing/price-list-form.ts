import { addDays, parseDay, startOfDay, wallClockOf, zonedInstant } from '../time/calendar.js';
import { decimalText } from '../shared/decimal.js';
import {
  MAX_BONUS_TIERS,
  MAX_PACKS,
  parseAmount,
  PRICE_LIST_PROBLEM_CODES,
  priceListProblems,
  type BonusTier,
  type Currency,
  type Pack,
  type PriceList,
} from './pricing.js';

/**
 * The price list as an admin types it: every value a string as typed ("12,50", "5,5", "2026-12-01"),
 * so that a refused form comes back exactly as it was sent. Rows are numbered in the form's order;
 * `position` reorders them, `remove` drops them, and a row left blank is ignored.
 */
export interface PriceListForm {
  /** The published version the admin started from. */
  version: string;
  currency: string;
  vatRate: string;
  unitPrice: string;
  freeEnabled: boolean;
  freeMin: string;
  freeMax: string;
  freeStep: string;
  packs: PackRow[];
  tiers: TierRow[];
}

export interface PackRow {
  id: string;
  position: string;
  price: string;
  units: string;
  bonus: string;
  enabled: boolean;
  from: string;
  until: string;
  remove: boolean;
}

export interface TierRow {
  amount: string;
  bonus: string;
  from: string;
  until: string;
  remove: boolean;
}

/** The price list's rules, and what can be wrong with a value as typed. */
export const PRICE_FORM_PROBLEM_CODES = [...PRICE_LIST_PROBLEM_CODES, 'required', 'invalid_amount', 'invalid_rate', 'invalid_units', 'invalid_date', 'invalid_position'] as const;
export type PriceFormProblemCode = (typeof PRICE_FORM_PROBLEM_CODES)[number];

/** A problem tied to the form field it is about (its `name`); params as in PriceListProblem. */
export interface PriceFormProblem {
  field: string;
  code: PriceFormProblemCode;
  params?: Record<string, string | number>;
}

export type PackKey = keyof PackRow;
export type TierKey = keyof TierRow;

/** The names of the form's fields: `pack-2-price`, `tier-0-bonus`, `free-min`… */
export const packField = (row: number, key: PackKey) => `pack-${row}-${key}`;
export const tierField = (row: number, key: TierKey) => `tier-${row}-${key}`;
const SETTINGS_FIELDS = {
  'settings.currency': 'currency',
  'settings.vatRateBasisPoints': 'vat-rate',
  'settings.unitPriceCents': 'unit-price',
  'freeAmount.minCents': 'free-min',
  'freeAmount.maxCents': 'free-max',
  'freeAmount.stepCents': 'free-step',
  packs: 'packs',
  bonusTiers: 'tiers',
} as const;
const PACK_KEYS: Record<string, PackKey> = { id: 'id', priceCents: 'price', units: 'units', bonusUnits: 'bonus', validFrom: 'from', validUntil: 'until' };
const TIER_KEYS: Record<string, TierKey> = { minCents: 'amount', bonusBasisPoints: 'bonus', validFrom: 'from', validUntil: 'until' };

/** More rows than any form shows: what a tampered request may add is read, and refused by the rules. */
const MAX_ROWS = 20;
const MAX_TEXT = 40;

/** Reads the submitted fields; anything missing or not text is empty. */
export function priceListFormFromBody(body: Record<string, unknown>): PriceListForm {
  const text = (name: string) => {
    const value = body[name];
    return typeof value === 'string' ? value.slice(0, MAX_TEXT) : '';
  };
  const checked = (name: string) => body[name] !== undefined;
  const rowsOf = (prefix: string) => {
    const pattern = new RegExp(`^${prefix}-(\\d{1,2})-`);
    const rows = new Set<number>();
    for (const name of Object.keys(body)) {
      const row = Number(pattern.exec(name)?.[1] ?? NaN);
      if (row < MAX_ROWS) rows.add(row);
    }
    return [...rows].sort((a, b) => a - b);
  };
  return {
    version: text('version'),
    currency: text('currency'),
    vatRate: text('vat-rate'),
    unitPrice: text('unit-price'),
    freeEnabled: checked('free-enabled'),
    freeMin: text('free-min'),
    freeMax: text('free-max'),
    freeStep: text('free-step'),
    packs: rowsOf('pack').map((row) => {
      const field = (key: PackKey) => packField(row, key);
      return {
        id: text(field('id')),
        position: text(field('position')),
        price: text(field('price')),
        units: text(field('units')),
        bonus: text(field('bonus')),
        enabled: checked(field('enabled')),
        from: text(field('from')),
        until: text(field('until')),
        remove: checked(field('remove')),
      };
    }),
    tiers: rowsOf('tier').map((row) => {
      const field = (key: TierKey) => tierField(row, key);
      return { amount: text(field('amount')), bonus: text(field('bonus')), from: text(field('from')), until: text(field('until')), remove: checked(field('remove')) };
    }),
  };
}

export interface FormattingOptions {
  timeZone: string;
  /** "," in French, "." in English: what the admin would type. */
  decimalSeparator: '.' | ',';
}

const emptyPack = (): PackRow => ({ id: '', position: '', price: '', units: '', bonus: '', enabled: true, from: '', until: '', remove: false });
const emptyTier = (): TierRow => ({ amount: '', bonus: '', from: '', until: '', remove: false });

/** The form showing `priceList`, plus one blank pack and one blank tier while there is room for them. */
export function priceListFormOf(priceList: PriceList, version: number, { timeZone, decimalSeparator }: FormattingOptions): PriceListForm {
  const money = (cents: number) => decimalText(cents, decimalSeparator);
  const number = (hundredths: number) => shortDecimalText(hundredths, decimalSeparator);
  const { settings, freeAmount } = priceList;
  const packs = priceList.packs.map(
    (pack, index): PackRow => ({
      id: pack.id,
      position: String(index + 1),
      price: money(pack.priceCents),
      units: number(pack.units),
      bonus: number(pack.bonusUnits),
      enabled: pack.enabled,
      from: windowBoundText(pack.validFrom, timeZone, 'from'),
      until: windowBoundText(pack.validUntil, timeZone, 'until'),
      remove: false,
    }),
  );
  const tiers = priceList.bonusTiers.map(
    (tier): TierRow => ({
      amount: money(tier.minCents),
      bonus: number(tier.bonusBasisPoints),
      from: windowBoundText(tier.validFrom, timeZone, 'from'),
      until: windowBoundText(tier.validUntil, timeZone, 'until'),
      remove: false,
    }),
  );
  return {
    version: String(version),
    currency: settings.currency,
    vatRate: number(settings.vatRateBasisPoints),
    unitPrice: money(settings.unitPriceCents),
    freeEnabled: freeAmount !== null,
    freeMin: freeAmount ? money(freeAmount.minCents) : '',
    freeMax: freeAmount ? money(freeAmount.maxCents) : '',
    freeStep: freeAmount ? money(freeAmount.stepCents) : '',
    packs: packs.length < MAX_PACKS ? [...packs, emptyPack()] : packs,
    tiers: tiers.length < MAX_BONUS_TIERS ? [...tiers, emptyTier()] : tiers,
  };
}

/** Hundredths as few decimals as needed, as people type them: "20", "5,5". */
function shortDecimalText(hundredths: number, separator: '.' | ','): string {
  return decimalText(hundredths, separator).replace(/0+$/, '').replace(/[.,]$/, '');
}

/**
 * A window bound as typed: a day when it falls on midnight (`until` is then the last day included),
 * else a day and a time, in the portal's time zone.
 */
export function windowBoundText(moment: Date | null, timeZone: string, bound: 'from' | 'until'): string {
  if (!moment) return '';
  const { day, minutes } = wallClockOf(moment, timeZone);
  if (minutes === 0) return bound === 'until' ? addDays(day, -1) : day;
  const two = (value: number) => String(value).padStart(2, '0');
  return `${day}T${two(Math.floor(minutes / 60))}:${two(minutes % 60)}`;
}

const DAY_TEXT = /^\d{4}-\d{2}-\d{2}$/;
const DAY_AND_TIME_TEXT = /^(\d{4}-\d{2}-\d{2})[T ]([01]\d|2[0-3]):([0-5]\d)$/;

/**
 * A typed window bound in `timeZone`: a day ("2026-12-01": from its start; for `until`, the day is
 * included, so the window ends at the next midnight) or a day and time as a datetime-local field
 * sends it ("2026-12-01T08:30"). Null when left blank; undefined when unreadable.
 */
export function parseWindowBound(text: string, timeZone: string, bound: 'from' | 'until'): Date | null | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  try {
    if (DAY_TEXT.test(trimmed)) return startOfDay(bound === 'until' ? addDays(parseDay(trimmed), 1) : parseDay(trimmed), timeZone);
    const match = DAY_AND_TIME_TEXT.exec(trimmed);
    if (match) return zonedInstant(parseDay(match[1]), Number(match[2]) * 60 + Number(match[3]), timeZone);
  } catch {
    // A day that does not exist: unreadable, like any other text.
  }
  return undefined;
}

/** Hundredths typed like an amount ("12,50"); a trailing % is allowed for rates. Undefined when unreadable. */
function parseHundredths(text: string, { percent = false } = {}): number | undefined {
  try {
    return parseAmount(percent ? text.replace(/%\s*$/, '') : text);
  } catch {
    return undefined;
  }
}

export type PriceFormReading = { priceList: PriceList; problems: [] } | { priceList: null; problems: PriceFormProblem[] };

/**
 * The price list the form describes, or every problem with it, each tied to its field. Values are
 * read first (a field that cannot be read is reported alone); the price list's rules come second.
 */
export function readPriceListForm(form: PriceListForm, timeZone: string): PriceFormReading {
  const problems: PriceFormProblem[] = [];
  const report = (field: string, code: PriceFormProblemCode) => problems.push({ field, code });
  const read = (field: string, text: string, code: 'invalid_amount' | 'invalid_rate' | 'invalid_units', { optional = false, percent = false } = {}) => {
    if (text.trim() === '') {
      if (!optional) report(field, 'required');
      return 0;
    }
    const value = parseHundredths(text, { percent });
    if (value === undefined) report(field, code);
    return value ?? 0;
  };
  const money = (field: string, text: string) => read(field, text, 'invalid_amount');
  const rate = (field: string, text: string) => read(field, text, 'invalid_rate', { percent: true });
  const units = (field: string, text: string, optional = false) => read(field, text, 'invalid_units', { optional });
  const moment = (field: string, text: string, bound: 'from' | 'until') => {
    const value = parseWindowBound(text, timeZone, bound);
    if (value === undefined) report(field, 'invalid_date');
    return value ?? null;
  };

  const settings = {
    currency: form.currency as Currency,
    vatRateBasisPoints: rate('vat-rate', form.vatRate),
    unitPriceCents: money('unit-price', form.unitPrice),
  };
  const freeAmount = form.freeEnabled
    ? { minCents: money('free-min', form.freeMin), maxCents: money('free-max', form.freeMax), stepCents: money('free-step', form.freeStep) }
    : null;

  const packRows = form.packs
    .map((row, index) => ({ row, index }))
    .filter(({ row }) => !row.remove && [row.id, row.price, row.units, row.bonus, row.from, row.until].some((text) => text.trim() !== ''))
    .map(({ row, index }) => {
      const position = row.position.trim();
      if (position !== '' && !/^\d{1,3}$/.test(position)) report(packField(index, 'position'), 'invalid_position');
      if (row.id.trim() === '') report(packField(index, 'id'), 'required');
      const target = /^\d{1,3}$/.test(position) ? Number(position) : index + 1;
      // A row moved up goes before the row already at its new position, a row moved down after it.
      const tieBreak = Math.sign(target - (index + 1));
      return { row, index, target, tieBreak };
    })
    .sort((a, b) => a.target - b.target || a.tieBreak - b.tieBreak || a.index - b.index);
  const packs = packRows.map(
    ({ row, index }): Pack => ({
      id: row.id.trim(),
      priceCents: money(packField(index, 'price'), row.price),
      units: units(packField(index, 'units'), row.units),
      bonusUnits: units(packField(index, 'bonus'), row.bonus, true),
      enabled: row.enabled,
      validFrom: moment(packField(index, 'from'), row.from, 'from'),
      validUntil: moment(packField(index, 'until'), row.until, 'until'),
    }),
  );

  const tierRows = form.tiers
    .map((row, index) => ({ row, index }))
    .filter(({ row }) => !row.remove && [row.amount, row.bonus, row.from, row.until].some((text) => text.trim() !== ''));
  const bonusTiers = tierRows.map(
    ({ row, index }): BonusTier => ({
      minCents: money(tierField(index, 'amount'), row.amount),
      bonusBasisPoints: rate(tierField(index, 'bonus'), row.bonus),
      validFrom: moment(tierField(index, 'from'), row.from, 'from'),
      validUntil: moment(tierField(index, 'until'), row.until, 'until'),
    }),
  );

  if (problems.length > 0) return { priceList: null, problems };
  const priceList: PriceList = { settings, packs, freeAmount, bonusTiers };
  const ruled = priceListProblems(priceList).map((problem) => ({
    field: fieldOf(problem.path, packRows.map(({ index }) => index), tierRows.map(({ index }) => index)),
    code: problem.code,
    ...(problem.params ? { params: problem.params } : {}),
  }));
  return ruled.length > 0 ? { priceList: null, problems: ruled } : { priceList, problems: [] };
}

/** The form field a price list path points at, through the rows the packs and tiers came from. */
function fieldOf(path: string, packRows: number[], tierRows: number[]): string {
  if (path in SETTINGS_FIELDS) return SETTINGS_FIELDS[path as keyof typeof SETTINGS_FIELDS];
  const [list, index, property] = path.split('.') as [string, string, string];
  if (list === 'packs') return packField(packRows[Number(index)] ?? 0, PACK_KEYS[property] ?? 'id');
  return tierField(tierRows[Number(index)] ?? 0, TIER_KEYS[property] ?? 'amount');
}
