import type { GatewayError } from '../../payments/gateway.js';
import type { Order } from '../../domain/checkout/orders.js';

const FIRST_CHECK_MS = 60_000;
const LONGEST_WAIT_MS = 3600_000;

/**
 * The 422 issues of a capture (Orders v2, `orders.capture-422`) that only the buyer can change: by
 * approving again at PayPal with another way to pay, or doing what PayPal asks of them there.
 */
const BUYER_ISSUES = new Set([
  'INSTRUMENT_DECLINED',
  'PAYER_ACTION_REQUIRED',
  'REDIRECT_PAYER_FOR_ALTERNATE_FUNDING',
  'PAYER_CANNOT_PAY',
  'PAYER_ACCOUNT_LOCKED_OR_CLOSED',
  'PAYER_ACCOUNT_RESTRICTED',
  'CARD_BRAND_NOT_SUPPORTED',
  'REFERENCED_CARD_EXPIRED',
  'TRANSACTION_LIMIT_EXCEEDED',
  'TRANSACTION_REFUSED',
]);

/**
 * Issues that say "not yet" rather than "no": PayPal is still completing the order
 * (ORDER_COMPLETION_IN_PROGRESS, in the spec's capture 422 list), or another request with this
 * PayPal-Request-Id is still being answered (PREVIOUS_REQUEST_IN_PROGRESS, the Payments API's word
 * for it). The capture may well go through: look the order up.
 */
const IN_PROGRESS_ISSUES = new Set(['ORDER_COMPLETION_IN_PROGRESS', 'PREVIOUS_REQUEST_IN_PROGRESS']);

/**
 * HTTP statuses of a request PayPal will refuse again as long as nobody changes the portal's settings
 * or account. Not 401: refused credentials fail every call, look-ups included, so nothing is hammered,
 * and a 401 says nothing about the payment (it must not move the order to approved).
 */
const REFUSED_REQUESTS = new Set([400, 403]);

/** Who can change a capture PayPal refused: the buyer, or the seller (the shop's PayPal account or settings: the admins). */
export type CaptureRefusal = 'buyer' | 'seller';

/**
 * A capture PayPal refused, and who can change that: `buyer` for INSTRUMENT_DECLINED and the other
 * BUYER_ISSUES; `seller` for any other 422 (PAYEE_BLOCKED_TRANSACTION, PAYEE_ACCOUNT_RESTRICTED,
 * COMPLIANCE_VIOLATION, DUPLICATE_INVOICE_ID, TRANSACTION_RECEIVING_LIMIT_EXCEEDED,
 * MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED…), which sending the buyer back to PayPal would not help,
 * and `seller` for a request PayPal refuses as such (400, 403 permission denied: the portal's
 * settings or PayPal account). Either way capturing again at once would be refused again: without
 * this, every sweep would send it again. Null when it is no refusal: already captured, not approved
 * yet or still in progress (look it up), refused credentials (401: every call fails, look-ups too), a
 * 5xx or a timeout (the capture itself may still succeed).
 */
export function captureRefusalOf(error: GatewayError): CaptureRefusal | null {
  if (error.kind === 'instrument_declined') return 'buyer';
  if (error.kind !== 'rejected') return null;
  if (error.details.issue !== undefined && IN_PROGRESS_ISSUES.has(error.details.issue)) return null;
  if (error.details.status === 422) return error.details.issue !== undefined && BUYER_ISSUES.has(error.details.issue) ? 'buyer' : 'seller';
  return error.details.status !== undefined && REFUSED_REQUESTS.has(error.details.status) ? 'seller' : null;
}


/**
 * PayPal refused the order's capture for its buyer: it went back to `awaiting_payment`, and nothing
 * captures it until the buyer approves again (their return, or a new APPROVED webhook). An `approved`
 * order with `captureDeclinedAt` was refused for the seller: it is captured again, with backoff.
 */
export function waitsForTheBuyer(order: Pick<Order, 'status' | 'captureDeclinedAt'>): boolean {
  return order.status === 'awaiting_payment' && order.captureDeclinedAt !== null;
}

/** PayPal refused the order's capture for the seller (`waitsForTheBuyer`'s counterpart): the buyer approved, the admins were alerted. */
export function waitsForTheSeller(order: Pick<Order, 'status' | 'captureDeclinedAt'>): boolean {
  return order.status === 'approved' && order.captureDeclinedAt !== null;
}

/**
 * The seller's refusal backs off: until `nextCheckAt`, no path captures the order (a capture now would
 * be refused again, and alert the admins again); the buyer's return, webhooks and the cancel link only
 * look it up.
 */
export function sellerRefusalBacksOff(order: Pick<Order, 'status' | 'captureDeclinedAt' | 'nextCheckAt'>, now: Date): boolean {
  return waitsForTheSeller(order) && order.nextCheckAt !== null && order.nextCheckAt.getTime() > now.getTime();
}

/**
 * When the reconciler may look a refused order up (or capture it again, when refused for the seller):
 * a minute after the refusal, then after as long as the refusal is old (the waits double), at most an
 * hour. PayPal voids an approval after 3 hours, so an abandoned order costs about eight look-ups.
 */
export function nextCheckAfterRefusal(refusedAt: Date, now: Date): Date {
  const wait = Math.min(Math.max(now.getTime() - refusedAt.getTime(), FIRST_CHECK_MS), LONGEST_WAIT_MS);
  return new Date(now.getTime() + wait);
}
