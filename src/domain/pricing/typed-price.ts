import { parseAmount, PricingError, type Cents, type Currency } from './pricing.js';

/** How the portal's languages write a currency ("€", "$US", "US$", "CA$"…), then its code: what a person may type beside a price. */
export function currencyMarks(currency: Currency): string[] {
  const symbols = (['fr', 'en'] as const).map(
    (locale) =>
      new Intl.NumberFormat(locale, { style: 'currency', currency })
        .formatToParts(1)
        .find((part) => part.type === 'currency')?.value ?? currency,
  );
  return [...new Set([...symbols, currency])];
}

/** One of `marks` at the start or the end, and the spaces beside it, taken off (any letter case: "eur" is EUR). */
function withoutMark(text: string, marks: readonly string[]): string {
  const bare = text.trim();
  const upper = bare.toUpperCase();
  for (const mark of marks.map((each) => each.toUpperCase())) {
    if (upper.startsWith(mark)) return bare.slice(mark.length).trim();
    if (upper.endsWith(mark)) return bare.slice(0, -mark.length).trim();
  }
  return bare;
}

/**
 * Groups of three digits, all split by the same space, "." or ",", then maybe decimals after the other
 * mark: "1 234,50", "1,234.50", "1.234,5". A "." or "," grouping needs the decimals to be told apart from them.
 */
const GROUPED = /^(\d{1,3})((?:([\s.,])\d{3})(?:\3\d{3})*)(?:([.,])(\d{1,2}))?$/;

/**
 * Reads a price a person typed on the top-up page, as they write it or as the portal shows it: "25",
 * "25,5", "25,50 €", "€25.50", "1 234,50 €", with plain or no-break spaces. The currency mark must be
 * the price list's; besides, what parseAmount refuses is refused (signs, exponents, more than two
 * decimals), and so is a grouping that could be decimals ("1,234", "1.234").
 */
export function parseTypedPrice(text: unknown, currency: Currency): Cents {
  return parseTypedAmount(text, currencyMarks(currency));
}

/**
 * Reads an amount as parseTypedPrice does, with `marks` (a currency's, none for units) allowed beside
 * it: units are typed as the portal shows them too ("1 234,50").
 */
export function parseTypedAmount(text: unknown, marks: readonly string[]): Cents {
  if (typeof text !== 'string') return parseAmount(text);
  const bare = withoutMark(text, marks);
  const grouped = GROUPED.exec(bare);
  if (!grouped) return parseAmount(bare);
  const [, head, groups, separator, decimalMark, decimals] = grouped as unknown as [string, string, string, string, string | undefined, string | undefined];
  const groupedByMark = separator === '.' || separator === ',';
  if (groupedByMark && (decimalMark === undefined || decimalMark === separator)) {
    throw new PricingError('invalid_amount', `"${text.slice(0, 20)}" could be read two ways`);
  }
  const digits = `${head}${groups.replace(/[\s.,]/g, '')}`;
  return parseAmount(decimals === undefined ? digits : `${digits}.${decimals}`);
}
