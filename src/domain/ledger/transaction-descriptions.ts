/**
 * The descriptions the portal itself writes on postings are stored as written then (in English, as
 * data); shown to people, each is told in their language. Any other description (an order's or
 * quote's number, a batch's name, an admin's reason) is shown as it is.
 */
export type DescriptionWording = { key: 'welcomeCredit' | 'creditRefund' | 'orderRefund' | 'orderReversal'; params: Record<string, string> };

const ORDER_NUMBER = 'R-\\d{4}-\\d{6,9}';
const PATTERNS: ReadonlyArray<{ pattern: RegExp; key: DescriptionWording['key']; names: string[] }> = [
  { pattern: /^welcome credit$/, key: 'welcomeCredit', names: [] },
  { pattern: /^credit refund (\d+)$/, key: 'creditRefund', names: ['request'] },
  { pattern: new RegExp(`^(${ORDER_NUMBER}) refund$`), key: 'orderRefund', names: ['order'] },
  { pattern: new RegExp(`^(${ORDER_NUMBER}) reversal$`), key: 'orderReversal', names: ['order'] },
];

/** How to word a posting's description, or null when it is shown as stored. */
export function descriptionWording(description: string | null): DescriptionWording | null {
  if (description === null) return null;
  for (const { pattern, key, names } of PATTERNS) {
    const match = pattern.exec(description);
    if (match) return { key, params: Object.fromEntries(names.map((name, index) => [name, match[index + 1]!])) };
  }
  return null;
}
