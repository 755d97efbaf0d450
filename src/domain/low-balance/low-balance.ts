import type { Hundredths, TransactionKind } from '../ledger/ledger.js';
import { PricingError } from '../pricing/pricing.js';
import { parseTypedAmount } from '../pricing/typed-price.js';
import { DomainError } from '../shared/errors.js';

/** The lowest and highest threshold a person may choose: 0,01 and 10 000 units. */
export const THRESHOLD_MIN: Hundredths = 1;
export const THRESHOLD_MAX: Hundredths = 1_000_000;

/** The notice queued when spending takes a balance below its threshold (the mail outbox's notice kind). */
export const LOW_BALANCE_NOTICE_KIND = 'low_balance.crossed';

export type ThresholdProblem = 'threshold_invalid' | 'threshold_out_of_range';

export class LowBalanceError extends DomainError<ThresholdProblem> {}

/**
 * Reads a threshold typed as units are typed and shown elsewhere ("5", "2,50", "2.5", "1 000,00"):
 * between THRESHOLD_MIN and THRESHOLD_MAX; anything else is refused with its reason.
 */
export function parseThreshold(text: unknown): Hundredths {
  let threshold: Hundredths;
  try {
    threshold = parseTypedAmount(text, []);
  } catch (error) {
    if (!(error instanceof PricingError)) throw error;
    throw new LowBalanceError('threshold_invalid', error.message);
  }
  if (threshold < THRESHOLD_MIN || threshold > THRESHOLD_MAX) throw new LowBalanceError('threshold_out_of_range', `${threshold} is out of range`);
  return threshold;
}

/** Whether a balance is below the person's threshold (never, without an alert). */
export function isBalanceLow(balance: Hundredths, threshold: Hundredths | null): boolean {
  return threshold !== null && balance < threshold;
}

/**
 * Spending that alerts: a print server's job, a quote paid in units, an admin's debit. A take-back of
 * paid units (a PayPal refund, a chargeback, a reversed credit) is no spending: the person knows why the
 * units went, and telling them to top up would be wrong.
 */
const ALERTING_KINDS: ReadonlySet<TransactionKind> = new Set(['usage', 'quote_payment', 'adjustment']);

/**
 * Whether one line of a posting crosses the account's threshold: spending that took the balance from
 * at least the threshold to below it. Each such crossing alerts once; lines that leave the balance
 * below, or keep it at or above, do not. So the alert re-arms by itself when the balance is back at or
 * above the threshold, whatever brought it back (a top-up, a cancelled job, an admin's credit).
 */
export function crossesThreshold(line: { kind: TransactionKind; amount: Hundredths; balanceAfter: Hundredths; threshold: Hundredths | null }): boolean {
  if (line.threshold === null || line.amount >= 0 || !ALERTING_KINDS.has(line.kind)) return false;
  const balanceBefore = line.balanceAfter - line.amount;
  return balanceBefore >= line.threshold && line.balanceAfter < line.threshold;
}

/** The outbox key of a crossing's mail: one per account per ledger transaction, so a replay queues nothing more. */
export const lowBalanceSendKey = (transactionId: number, accountId: number) => `low-balance:${transactionId}:${accountId}`;
