import type { Hundredths } from '../ledger/ledger.js';
import type { Cents } from '../pricing/pricing.js';
import { DomainError } from '../shared/errors.js';
import { refundShare, unitsTakenBack } from '../checkout/refunds.js';

/**
 * PayPal refunds a capture only within 180 days of it (PayPal's user agreement, "Refunds"); an older
 * payment is paid back by a bank transfer an admin makes and records. A constant, not a setting: it is
 * PayPal's rule, not the site's.
 */
export const PAYPAL_REFUND_WINDOW_DAYS = 180;
const DAY_MS = 86_400_000;

/** A refusal's reason, kept in the audit log and mailed to the person. */
export const CREDIT_REFUND_REASON_MAX_LENGTH = 500;

/**
 * A request's life, only forward (each move a guarded update from the status before): `requested`
 * until an admin (or the automatic approval) decides; `refused` is final; `approved` once its units
 * were taken back and its parts are being paid; `completed` when every part is paid (PayPal refunded
 * it, or an admin recorded the transfer).
 */
export const CREDIT_REFUND_STATUSES = ['requested', 'refused', 'approved', 'completed'] as const;
export type CreditRefundStatus = (typeof CREDIT_REFUND_STATUSES)[number];
/** A person has at most one request in these (unique in the database). */
export const OPEN_CREDIT_REFUND_STATUSES: readonly CreditRefundStatus[] = ['requested', 'approved'];

/**
 * How one part of a refund is paid: through PayPal (`pending` until PayPal refunded it) or by a bank
 * transfer (`awaiting_transfer` until an admin records it as `transferred`).
 */
export type RefundPartMethod = 'paypal' | 'transfer';
export type RefundPartStatus = 'pending' | 'refunded' | 'awaiting_transfer' | 'transferred';

/** A paid top-up the person could be refunded from, with the refunds already made of it. */
export interface RefundableTopUp {
  orderId: number;
  orderNumber: string;
  capturedAt: Date;
  currency: string;
  priceCents: Cents;
  /** Units bought, and the bonus given with them, in hundredths. */
  units: Hundredths;
  bonusUnits: Hundredths;
  /** Every refund of it so far (PayPal's, an admin's, an earlier request's), in cents. */
  earlierRefundsCents: readonly Cents[];
}

export interface PlannedPart {
  orderId: number;
  orderNumber: string;
  currency: string;
  method: RefundPartMethod;
  amountCents: Cents;
  /** The units this part takes back (its share of the bonus included). */
  units: Hundredths;
  /** Of those, the bonus: it goes back to the bonus account, never paid out. */
  bonusUnits: Hundredths;
}

export interface RefundPlan {
  parts: PlannedPart[];
  units: Hundredths;
  cents: Cents;
}

export const withinPayPalWindow = (capturedAt: Date, now: Date) => now.getTime() - capturedAt.getTime() < PAYPAL_REFUND_WINDOW_DAYS * DAY_MS;

/**
 * What a person can be paid back now, from `available` units (their balance less what pending admin
 * refunds hold). The rule:
 *
 * - Only paid top-ups are refunded, newest first; welcome credit, admin credits and top-up codes carry
 *   no money and are counted as spent first, so they never reduce what is refundable nor are paid.
 * - A top-up is refunded like an admin's refund of it (checkout's `refundShare`/`unitsTakenBack`): its
 *   money for its units at the price paid per unit received, bonus included, rounded down to the cent,
 *   and the bonus goes back with its units. The bonus itself is never paid out: refunding a top-up at
 *   once gives back exactly its price, and keeping the bonus of a refunded top-up is impossible.
 * - Units spent are never refunded: the units taken back never exceed `available`, and no part exceeds
 *   what remains of its top-up's price.
 * - A top-up captured within PayPal's refund window is refunded through PayPal; an older one by a
 *   bank transfer.
 */
export function planCreditRefund(available: Hundredths, topUps: readonly RefundableTopUp[], now: Date): RefundPlan {
  const newestFirst = [...topUps].sort((a, b) => b.capturedAt.getTime() - a.capturedAt.getTime() || b.orderId - a.orderId);
  let left = Math.max(0, available);
  const parts: PlannedPart[] = [];
  for (const topUp of newestFirst) {
    if (left <= 0) break;
    const earlierCents = topUp.earlierRefundsCents.reduce((sum, cents) => sum + cents, 0);
    const remainingCents = topUp.priceCents - earlierCents;
    const total = topUp.units + topUp.bonusUnits;
    if (remainingCents <= 0 || total <= 0) continue;
    const unitsLeft = unitsTakenBack(topUp, topUp.earlierRefundsCents, remainingCents);
    const whole = unitsLeft <= left;
    // Part of what is left: the money of `left` units, short of the remainder (which would take its rounding rest too).
    const amountCents = whole ? remainingCents : Math.min(Math.floor((left * topUp.priceCents) / total), remainingCents - 1);
    const units = whole ? unitsLeft : refundShare(topUp, amountCents);
    // What is left of the balance does not cover this top-up: it ends the refund (less than a cent's worth is kept).
    if (!whole) left = 0;
    if (amountCents <= 0 || units <= 0) continue;
    const bonusUnits = topUp.bonusUnits === 0 ? 0 : Math.floor((units * topUp.bonusUnits) / total);
    parts.push({
      orderId: topUp.orderId,
      orderNumber: topUp.orderNumber,
      currency: topUp.currency,
      method: withinPayPalWindow(topUp.capturedAt, now) ? 'paypal' : 'transfer',
      amountCents,
      units,
      bonusUnits,
    });
    if (whole) left -= units;
  }
  return { parts, units: parts.reduce((sum, part) => sum + part.units, 0), cents: parts.reduce((sum, part) => sum + part.amountCents, 0) };
}

/** PayPal refunds of a part asked without an admin: the sweep stops after this many attempts in all (an admin may still try). */
export const AUTOMATIC_PART_ATTEMPTS = 5;
const FIRST_RETRY_MS = 10 * 60_000;
/** PayPal remembers a PayPal-Request-Id about 6 hours: past 5 hours from a part's making, a refund made but never seen could be made again. */
export const REQUEST_ID_REMEMBERED_MS = 5 * 3600_000;

/**
 * Whether the reconciler's sweep should ask PayPal again for a part: still pending by PayPal, its
 * refund unknown, certainly not made, or never asked (the process stopped after the approval); 10
 * minutes after its last attempt, then 20, 40, 80. A part PayPal refused for certain is left to an
 * admin (to pay it by transfer). Asking again is safe: the part's PayPal-Request-Id makes PayPal answer
 * with the refund it made, if it made one — while PayPal remembers it: 5 hours after the part was made,
 * the sweep stops asking and leaves the part to an admin.
 */
export function partRetryDue(
  part: { status: string; method: string; attempts: number; lastOutcome: 'refused' | 'unknown' | 'not_refunded' | null; createdAt: Date; updatedAt: Date },
  now: Date,
): boolean {
  if (part.status !== 'pending' || part.method !== 'paypal' || part.lastOutcome === 'refused' || part.attempts >= AUTOMATIC_PART_ATTEMPTS) return false;
  if (now.getTime() - part.createdAt.getTime() >= REQUEST_ID_REMEMBERED_MS) return false;
  return now.getTime() - part.updatedAt.getTime() >= FIRST_RETRY_MS * 2 ** Math.max(0, part.attempts - 1);
}

/** The PayPal-Request-Id of one part: the same on every retry, so PayPal refunds it once. */
export const partRequestId = (requestId: number, orderId: number) => `credit-refund-${requestId}-${orderId}`;
/** The idempotency key of a request's one take-back posting. */
export const takeBackKey = (requestId: number) => `credit-refund:${requestId}`;

export type CreditRefundErrorCode = 'nothing_refundable' | 'already_open' | 'not_found' | 'invalid_reason' | 'invalid_threshold' | 'not_switchable' | 'not_awaiting_transfer' | 'exceeds_order';
export class CreditRefundError extends DomainError<CreditRefundErrorCode> {}

/** A refusal's reason: trimmed, 1 to 500 characters, no control characters but line breaks. */
export function validateRefusalReason(input: unknown): string {
  const reason = typeof input === 'string' ? input.trim() : '';
  // eslint-disable-next-line no-control-regex
  if (reason === '' || reason.length > CREDIT_REFUND_REASON_MAX_LENGTH || /[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f]/.test(reason)) {
    throw new CreditRefundError('invalid_reason', 'a refusal needs a reason of 1 to 500 characters');
  }
  return reason;
}
