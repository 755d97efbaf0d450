import type { Locale } from '../shared/locale.js';

/** A receipt for a paid order, a credit note for each refund of it. */
export const ORDER_DOCUMENT_KINDS = ['receipt', 'credit_note'] as const;
export type OrderDocumentKind = (typeof ORDER_DOCUMENT_KINDS)[number];
/**
 * Order documents, and the quote the reprography desk sends. A quote's document is numbered in its own
 * series (`document_series` row `quote`, counting quotes sent, without gaps) but prints, and is known
 * by, the quote's own number (D-2026-000123): the customer types that number to find the quote, so the
 * page carries no second number to mistake for it.
 */
export type DocumentKind = OrderDocumentKind | 'quote';

/** Each kind is its own series; the prefix keeps document numbers apart from order numbers (R-2026-000123). */
const PREFIX: Record<OrderDocumentKind, string> = { receipt: 'RC', credit_note: 'CN' };
const KIND_OF_PREFIX = new Map(Object.entries(PREFIX).map(([kind, prefix]) => [prefix, kind as OrderDocumentKind]));

/** RC-000042: the 42nd receipt ever issued. Six digits at least, more once a series passes a million. */
export function formatDocumentNumber(kind: OrderDocumentKind, seriesNumber: number): string {
  return `${PREFIX[kind]}-${String(seriesNumber).padStart(6, '0')}`;
}

/** The kind and place in its series of an order document's number, or null for anything else. */
export function parseDocumentNumber(text: unknown): { kind: OrderDocumentKind; seriesNumber: number } | null {
  const match = typeof text === 'string' ? /^([A-Z]{2})-(\d{6,9})$/.exec(text) : null;
  const kind = match ? KIND_OF_PREFIX.get(match[1]!) : undefined;
  if (!match || !kind) return null;
  const seriesNumber = Number(match[2]);
  return seriesNumber >= 1 && formatDocumentNumber(kind, seriesNumber) === text ? { kind, seriesNumber } : null;
}

/** What a document is issued for: one document per key, enforced by a unique column. */
export const documentSourceKeys = {
  receipt: (orderId: number) => `receipt:${orderId}`,
  creditNote: (refundId: string) => `credit-note:${refundId}`,
  /** Once per quote: sent quotes are not edited, and sending again mails the same document. */
  quote: (quoteId: number) => `quote:${quoteId}`,
};

export interface DocumentParty {
  name: string;
  address: string;
  vatNumber: string;
  email: string;
}

export interface DocumentBuyer {
  name: string;
  username: string;
  email: string;
}

/**
 * How the portal presented itself when a document was issued: printed on every rendition of the
 * document, whatever the look is when it is drawn.
 */
export interface DocumentBrand {
  organisationName: string;
  /** Headings and rules, readable on white paper. */
  accentColour: string;
  /** Where the logo is: `upload:<id>` or `theme:<path under the themes folder>`. */
  logo: string;
}

export interface IssuedDocument {
  id: number;
  kind: DocumentKind;
  number: string;
  seriesNumber: number;
  /** The order a receipt or credit note is for; null on a quote's document. */
  orderId: number | null;
  /** The quote a quote's document is for; null on order documents. */
  quoteId: number | null;
  /** The refund a credit note is for; null on a receipt. */
  refundId: string | null;
  issuedAt: Date;
  /** The buyer's language when it was issued: the language it is mailed in and shown to admins. */
  locale: Locale;
  buyer: DocumentBuyer;
  seller: DocumentParty;
  /** Null when issued without a theme at hand (the command line) or before brands were recorded: recorded at its first rendering. */
  brand: DocumentBrand | null;
}
