/**
 * Hundredths (or cents) as a plain signed decimal with two decimals: `-1234,50`, `12.50`. No grouping
 * and an ASCII minus, so PayPal, spreadsheets and form fields read it back exactly.
 */
export function decimalText(hundredths: number, separator: '.' | ',' = '.'): string {
  const magnitude = Math.abs(hundredths);
  return `${hundredths < 0 ? '-' : ''}${Math.trunc(magnitude / 100)}${separator}${String(magnitude % 100).padStart(2, '0')}`;
}

/** "," in French, "." in English: how people of that language type and read decimals. */
export function decimalSeparatorOf(locale: string): '.' | ',' {
  return locale === 'fr' ? ',' : '.';
}
