import { DomainError } from '../shared/errors.js';

/** Amounts are integer hundredths of a unit: 4960 is 49.60 units. */
export type Hundredths = number;

/** The largest amount one entry may carry: 10 million units, far above any real print account. */
export const MAX_ENTRY_AMOUNT: Hundredths = 1_000_000_000;

export const USAGE_CATEGORIES = ['print', 'copy', 'scan', 'fax'] as const;
export type UsageCategory = (typeof USAGE_CATEGORIES)[number];

/**
 * `quote_payment`: a quote paid from the units of the person it is made out to (services/quotes/quote-units-payment.ts);
 * `voucher`: a top-up code redeemed (services/vouchers/voucher-redemption.ts).
 */
export const TRANSACTION_KINDS = ['top_up', 'usage', 'adjustment', 'reversal', 'quote_payment', 'voucher'] as const;
export type TransactionKind = (typeof TRANSACTION_KINDS)[number];

/** Codes of the system accounts created by the ledger migration (quote payments: by the quote payments' migration). */
export const SystemAccount = {
  topUps: 'system:top-ups',
  bonuses: 'system:bonuses',
  adjustments: 'system:adjustments',
  quotePayments: 'system:quote-payments',
  /** Units given by top-up codes (created by the vouchers' migration). */
  vouchers: 'system:vouchers',
  usage: (category: UsageCategory) => `system:usage:${category}`,
} as const;

export const userAccountCode = (userId: number) => `user:${userId}`;

export interface PostingLine {
  accountId: number;
  /** Positive adds to the account's balance, negative takes from it. */
  amount: Hundredths;
}

export interface TransactionRequest {
  /** Posting twice with the same key records the transaction once. */
  idempotencyKey: string;
  kind: TransactionKind;
  lines: PostingLine[];
  description?: string | null;
  createdBy?: number | null;
  /** Lets this transaction take an account below zero: refunds and reversals of units already spent, and print jobs debited after they were printed. */
  allowOverdraft?: boolean;
}

export type LedgerErrorCode =
  | 'invalid_transaction'
  | 'insufficient_balance'
  | 'idempotency_conflict'
  | 'already_reversed'
  | 'account_not_found'
  | 'transaction_not_found';

export class LedgerError extends DomainError<LedgerErrorCode> {}

const MAX_KEY_LENGTH = 200;
const MAX_DESCRIPTION_LENGTH = 500;

/**
 * Checks a transaction before anything is written: at least two lines on distinct accounts,
 * non-zero integer amounts within bounds, and a sum of exactly zero (double entry).
 * Returns the lines sorted by account, the order in which balances are locked (no deadlocks).
 */
export function validateTransaction(request: TransactionRequest): PostingLine[] {
  const invalid = (message: string) => new LedgerError('invalid_transaction', message);
  const key = request.idempotencyKey;
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw invalid(`idempotency key must be 1 to ${MAX_KEY_LENGTH} characters`);
  }
  if (!(TRANSACTION_KINDS as readonly string[]).includes(request.kind)) throw invalid(`unknown kind ${String(request.kind)}`);
  if ((request.description?.length ?? 0) > MAX_DESCRIPTION_LENGTH) {
    throw invalid(`description must be at most ${MAX_DESCRIPTION_LENGTH} characters`);
  }
  if (request.lines.length < 2) throw invalid('a transaction needs at least two entries');
  const accounts = new Set<number>();
  let sum = 0;
  for (const { accountId, amount } of request.lines) {
    if (!Number.isSafeInteger(accountId) || accountId <= 0) throw invalid(`bad account id ${accountId}`);
    if (accounts.has(accountId)) throw invalid(`account ${accountId} appears twice`);
    accounts.add(accountId);
    if (!Number.isSafeInteger(amount) || amount === 0 || Math.abs(amount) > MAX_ENTRY_AMOUNT) {
      throw invalid(`amount ${amount} must be a non-zero whole number of hundredths up to ${MAX_ENTRY_AMOUNT}`);
    }
    sum += amount;
  }
  if (sum !== 0) throw invalid(`entries sum to ${sum}, not zero`);
  return [...request.lines].sort((a, b) => a.accountId - b.accountId).map(({ accountId, amount }) => ({ accountId, amount }));
}

/** The lines that undo a transaction: same accounts, opposite amounts. */
export function reversalLines(lines: readonly PostingLine[]): PostingLine[] {
  return lines.map(({ accountId, amount }) => ({ accountId, amount: -amount }));
}

/** Whether two sets of lines post the same amounts to the same accounts, whatever their order. */
export function sameLines(a: readonly PostingLine[], b: readonly PostingLine[]): boolean {
  const key = (lines: readonly PostingLine[]) =>
    [...lines]
      .sort((x, y) => x.accountId - y.accountId)
      .map((line) => `${line.accountId}:${line.amount}`)
      .join(',');
  return key(a) === key(b);
}
