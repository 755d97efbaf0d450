import { z } from 'zod';
import { DomainError } from '../shared/errors.js';
import { addDays, parseDay, type DayKey } from '../time/calendar.js';
import { normalizeUsername, USERNAME_PATTERN } from '../people/users.js';
import type { Hundredths } from '../ledger/ledger.js';
import { parseAmount, PricingError } from '../pricing/pricing.js';
import { SUPPORTED_LOCALES, type Locale } from '../shared/locale.js';
import { MAX_QUANTITY, MAX_QUOTE_LINES, MAX_UNIT_PRICE_CENTS, MAX_VAT_RATE_BASIS_POINTS, quoteTotals, QuoteTotalError, type QuoteLine } from './quote-totals.js';

export const DELIVERY_METHODS = ['pickup', 'post', 'courier'] as const;
export type DeliveryMethod = (typeof DELIVERY_METHODS)[number];

export const LIMITS = { name: 200, email: 254, postcode: 16, address: 500, staffNote: 1000, description: 300 } as const;

/** Who the quote is for and how it reaches them: everything here may be printed for the customer. */
export interface QuoteCustomer {
  name: string;
  email: string;
  /** As typed on the quote; the lookup compares it forgiving spaces and case (quote-numbers.ts). */
  postcode: string;
  deliveryMethod: DeliveryMethod;
  /** Empty for a pickup at the desk. */
  deliveryAddress: string;
  /** The last day the quote may be paid, in the portal's time zone. */
  validUntil: DayKey;
  /** The portal person the quote is for, if any (normalized username). */
  username: string | null;
  /** The language the customer reads: the quote's PDF and mail are written in it. */
  locale: Locale;
}

/** A draft as checked; `staffNote` is for staff only, kept apart from the customer so it is never printed with them. */
export interface QuoteDraft {
  customer: QuoteCustomer;
  staffNote: string;
  lines: QuoteLine[];
  /** What the quote's person may pay it with in units instead (hundredths); null: not offered. */
  unitsPrice: Hundredths | null;
}

/** The furthest ahead a quote may be valid: prices and VAT rates are not promised for longer. */
export const MAX_VALIDITY_DAYS = 365;

/** A line as typed in the desk's form: a price like "12,50", a VAT rate in per cent like "5,5". */
export interface QuoteLineInput {
  description?: unknown;
  quantity?: unknown;
  unitPrice?: unknown;
  vatRate?: unknown;
}

export type QuoteDraftInput = { [Field in keyof QuoteCustomer | 'staffNote' | 'unitsPrice']?: unknown } & { lines: readonly QuoteLineInput[] };

/**
 * One broken rule: `field` is a customer field, `lines` (the lines as a whole) or `lines.<row>.<field>`
 * with the row as sent (so a form shows it beside its row); `code` names the rule.
 */
export interface QuoteProblem {
  field: string;
  code: QuoteProblemCode;
}
export type QuoteProblemCode =
  | 'required'
  | 'too_long'
  | 'invalid'
  | 'repeated'
  | 'control_characters'
  | 'past'
  | 'too_far'
  | 'no_lines'
  | 'too_many_lines'
  | 'total_too_large'
  | 'total_zero'
  | 'unknown_person'
  | 'no_person';
const PROBLEM_CODES: ReadonlySet<string> = new Set<QuoteProblemCode>(['required', 'too_long', 'invalid', 'repeated', 'control_characters', 'past', 'too_far', 'no_lines', 'too_many_lines', 'total_too_large', 'total_zero', 'unknown_person', 'no_person']);
/** A rule's message as a problem code; anything zod says of its own (a type it did not expect) is `invalid`. */
const codeOf = (message: string): QuoteProblemCode => (PROBLEM_CODES.has(message) ? (message as QuoteProblemCode) : 'invalid');

export class QuoteDraftError extends DomainError<'invalid_quote'> {
  constructor(readonly problems: readonly QuoteProblem[]) {
    super('invalid_quote', problems.map((problem) => `${problem.field}: ${problem.code}`).join('; '));
  }
}

/**
 * Besides C0/C1 controls: zero-width and bidi controls (they reorder or hide what a text shows, in
 * a PDF or a mail as on the page), the byte-order mark, and the Unicode line and paragraph separators
 * (line breaks no textarea types). A one-line text has none; a multi-line one keeps only tabs, CR and LF.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const ANY_CONTROL = /[\u0000-\u001F\u007F-\u009F\u200B\u200E\u200F\u202A-\u202E\u2066-\u2069\uFEFF\u2028\u2029]/;
// eslint-disable-next-line no-control-regex -- multi-line fields keep tabs, CR and LF, and nothing else of the above
const CONTROL_BUT_LINES = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u200B\u200E\u200F\u202A-\u202E\u2066-\u2069\uFEFF\u2028\u2029]/;
const POSTCODE = /^[A-Za-z0-9][A-Za-z0-9 -]*$/;

/** A text field: absent is `required`; a field a form posts twice (read as an array) is `repeated`; any other type `invalid`. */
const text = z.string({ error: (issue) => (issue.input === undefined ? 'required' : Array.isArray(issue.input) ? 'repeated' : 'invalid') });
const choiceProblem = (issue: { input?: unknown }) => (Array.isArray(issue.input) ? 'repeated' : 'invalid');
/** A one-line text: no control or invisible character at all, then trimmed. */
const oneLineText = text.refine((value) => !ANY_CONTROL.test(value), 'control_characters').transform((value) => value.trim());
const oneLine = (max: number, required: boolean) => oneLineText.pipe(z.string().min(required ? 1 : 0, 'required').max(max, 'too_long'));
/** A text of several lines (an address, a note), empty when absent: tabs and line breaks kept, other controls refused. */
const multiLine = (max: number) =>
  text
    .optional()
    .transform((value) => value ?? '')
    .refine((value) => !CONTROL_BUT_LINES.test(value), 'control_characters')
    .transform((value) => value.trim())
    .pipe(z.string().max(max, 'too_long'));

/** The portal username typed for a quote, normalized; null when left empty. */
const usernameSchema = text
  .nullish()
  .transform((value) => normalizeUsername(value ?? ''))
  .refine((value) => value === '' || USERNAME_PATTERN.test(value), 'invalid')
  .transform((value) => (value === '' ? null : value));

/** The username a draft names, as the draft will hold it; null when there is none or it is no username (the draft reports why). */
export function typedUsername(value: unknown): string | null {
  const parsed = usernameSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

const customerSchema = (today: DayKey) =>
  z
    .object({
      name: oneLine(LIMITS.name, true),
      email: oneLineText.pipe(z.string().min(1, 'required').pipe(z.email('invalid').max(LIMITS.email, 'too_long'))),
      postcode: oneLineText.pipe(z.string().min(1, 'required').max(LIMITS.postcode, 'too_long').regex(POSTCODE, 'invalid')),
      deliveryMethod: z.enum(DELIVERY_METHODS, { error: choiceProblem }),
      deliveryAddress: multiLine(LIMITS.address),
      validUntil: text
        .trim()
        .min(1, 'required')
        .refine((value) => isDay(value), 'invalid')
        .refine((value) => !isDay(value) || value >= today, 'past')
        .refine((value) => !isDay(value) || value <= addDays(today, MAX_VALIDITY_DAYS), 'too_far'),
      username: usernameSchema,
      staffNote: multiLine(LIMITS.staffNote),
      locale: z.enum(SUPPORTED_LOCALES, { error: choiceProblem }),
    })
    .superRefine((customer, context) => {
      if (customer.deliveryMethod !== 'pickup' && customer.deliveryAddress === '') context.addIssue({ code: 'custom', path: ['deliveryAddress'], message: 'required' });
    });

const isDay = (value: string) => {
  try {
    parseDay(value);
    return true;
  } catch {
    return false;
  }
};

/** The desk's form offers empty rows: a row without a description and without a price is no line. */
const isBlankRow = (row: QuoteLineInput) => isEmpty(row.description) && isEmpty(row.unitPrice);
const isEmpty = (value: unknown) => value === undefined || value === null || (typeof value === 'string' && value.trim() === '');

const quantityOf = (value: unknown): number | null => {
  const match = typeof value === 'string' ? /^\s*(\d{1,6})\s*$/.exec(value) : null;
  const quantity = match ? Number(match[1]) : null;
  return quantity !== null && quantity >= 1 && quantity <= MAX_QUANTITY ? quantity : null;
};

const priceOf = (value: unknown): number | null => {
  try {
    const cents = parseAmount(value);
    return cents <= MAX_UNIT_PRICE_CENTS ? cents : null;
  } catch (error) {
    if (error instanceof PricingError) return null;
    throw error;
  }
};

/** A VAT rate in per cent, as typed ("20", "5,5", "2.10"), in basis points. */
export function parseVatRate(value: unknown): number | null {
  const match = typeof value === 'string' ? /^\s*(\d{1,2})(?:[.,](\d{1,2}))?\s*$/.exec(value) : null;
  if (!match) return null;
  const basisPoints = Number(match[1]) * 100 + Number((match[2] ?? '0').padEnd(2, '0'));
  return basisPoints <= MAX_VAT_RATE_BASIS_POINTS ? basisPoints : null;
}

const rowProblem = (value: unknown): QuoteProblemCode => (Array.isArray(value) ? 'repeated' : isEmpty(value) ? 'required' : 'invalid');

/**
 * The price in units typed for the quote's person ("49,60", read like an admin's adjustment), in
 * hundredths; empty: not offered. Only a person of the portal can pay in units, so a price needs one.
 */
function unitsPriceOf(value: unknown, personNamed: boolean, problems: QuoteProblem[]): Hundredths | null {
  if (isEmpty(value)) return null;
  const problem = (code: QuoteProblemCode) => (problems.push({ field: 'unitsPrice', code }), null);
  if (Array.isArray(value)) return problem('repeated');
  let hundredths: Hundredths;
  try {
    hundredths = parseAmount(value);
  } catch (error) {
    if (error instanceof PricingError) return problem('invalid');
    throw error;
  }
  if (hundredths === 0) return problem('invalid');
  return personNamed ? hundredths : problem('no_person');
}

function lineOf(row: QuoteLineInput, index: number, problems: QuoteProblem[]): QuoteLine | null {
  const add = (field: keyof QuoteLineInput, code: QuoteProblemCode) => problems.push({ field: `lines.${index}.${field}`, code });
  const before = problems.length;
  const description = oneLine(LIMITS.description, true).safeParse(row.description ?? '');
  if (!description.success) add('description', codeOf(description.error.issues[0]?.message ?? 'invalid'));
  const quantity = quantityOf(row.quantity);
  if (quantity === null) add('quantity', rowProblem(row.quantity));
  const unitPriceCents = priceOf(row.unitPrice);
  if (unitPriceCents === null) add('unitPrice', rowProblem(row.unitPrice));
  const vatRateBasisPoints = parseVatRate(row.vatRate);
  if (vatRateBasisPoints === null) add('vatRate', rowProblem(row.vatRate));
  if (problems.length > before || !description.success) return null;
  return { description: description.data, quantity: quantity!, unitPriceCents: unitPriceCents!, vatRateBasisPoints: vatRateBasisPoints! };
}

/**
 * Checks a draft as staff typed it, against `today` (the portal's day: a quote is valid from a day
 * not gone to at most a year ahead). A username must be one `personFound` knows (the caller looks it
 * up: typedUsername). Every broken rule is reported, each against its field; blank rows are left out.
 * Returns the draft with trimmed texts, amounts in cents and rates in basis points.
 */
export function validateQuoteDraft(input: QuoteDraftInput, today: DayKey, personFound: (username: string) => boolean = () => true): QuoteDraft {
  const problems: QuoteProblem[] = [];
  const parsed = customerSchema(today).safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push({ field: String(issue.path[0] ?? 'customer'), code: codeOf(issue.message) });
  }
  // Checked whatever else is wrong: every problem is reported at once.
  const username = typedUsername(input.username);
  if (username !== null && !personFound(username)) problems.push({ field: 'username', code: 'unknown_person' });
  // A username typed but wrong has its own problem: the price is not blamed for it too.
  const unitsPrice = unitsPriceOf(input.unitsPrice, !isEmpty(input.username), problems);
  const rows = input.lines.map((row, index) => ({ row, index })).filter(({ row }) => !isBlankRow(row));
  const lines = rows.map(({ row, index }) => lineOf(row, index, problems));
  if (rows.length === 0) problems.push({ field: 'lines', code: 'no_lines' });
  else if (rows.length > MAX_QUOTE_LINES) problems.push({ field: 'lines', code: 'too_many_lines' });
  const complete = lines.filter((line): line is QuoteLine => line !== null);
  if (complete.length === lines.length && rows.length <= MAX_QUOTE_LINES) {
    try {
      // Free lines are fine beside paid ones; a quote of nothing to pay is no quote.
      if (complete.length > 0 && quoteTotals(complete).totalCents === 0) problems.push({ field: 'lines', code: 'total_zero' });
    } catch (error) {
      if (!(error instanceof QuoteTotalError)) throw error;
      problems.push({ field: 'lines', code: 'total_too_large' });
    }
  }
  if (problems.length > 0 || !parsed.success) throw new QuoteDraftError(dedupe(problems));
  const { staffNote, ...customer } = parsed.data;
  return { customer, staffNote, lines: complete, unitsPrice };
}

/** One problem per field: the first rule it broke. */
const dedupe = (problems: QuoteProblem[]) => problems.filter((problem, index) => problems.findIndex((other) => other.field === problem.field) === index);
