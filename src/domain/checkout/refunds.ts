import { DomainError } from '../shared/errors.js';
import type { Hundredths } from '../ledger/ledger.js';
import type { OrderStatus } from './order-status.js';
import type { Order } from './orders.js';
import { vatIncluded, type Cents } from '../pricing/pricing.js';

/** A refund's reason, kept in the audit log: the admins' and the desk's refunds alike. */
export const REFUND_REASON_MAX_LENGTH = 500;

/** What an admin may do when a refund would take back units the person has already spent. */
export const REFUND_POLICIES = ['refuse', 'allow_negative'] as const;
export type RefundPolicy = (typeof REFUND_POLICIES)[number];
/** Nobody's balance goes below zero unless an admin chose so. */
export const DEFAULT_REFUND_POLICY: RefundPolicy = 'refuse';

export function isRefundPolicy(value: unknown): value is RefundPolicy {
  return typeof value === 'string' && (REFUND_POLICIES as readonly string[]).includes(value);
}

/** Orders whose units were credited and not yet wholly taken back. */
export const REFUNDABLE_STATUSES: readonly OrderStatus[] = ['paid', 'partially_refunded'];

export type RefundErrorCode = 'not_refundable' | 'amount_not_positive' | 'amount_exceeds_remaining' | 'units_spent' | 'form_reused';

export class RefundError extends DomainError<RefundErrorCode> {
  constructor(
    code: RefundErrorCode,
    message: string,
    /** For `units_spent`: how many units the person's balance lacks. */
    readonly missingUnits: Hundredths = 0,
  ) {
    super(code, message);
  }
}

type RefundableOrder = Pick<Order, 'number' | 'status' | 'paypalCaptureId' | 'priceCents' | 'refundedCents'>;

/** What may still be refunded: the price less what was refunded, or nothing for an order that cannot be refunded. */
export function refundableCents(order: RefundableOrder): Cents {
  if (!REFUNDABLE_STATUSES.includes(order.status) || !order.paypalCaptureId) return 0;
  return Math.max(0, order.priceCents - order.refundedCents);
}

/** Refuses a refund the order cannot take: not credited, nothing captured, zero, or more than what remains. */
export function checkRefundAmount(order: RefundableOrder, amountCents: Cents): void {
  if (refundableCents(order) === 0) throw new RefundError('not_refundable', `order ${order.number} is ${order.status} and cannot be refunded`);
  if (amountCents <= 0) throw new RefundError('amount_not_positive', 'a refund must be more than zero');
  if (amountCents > refundableCents(order)) throw new RefundError('amount_exceeds_remaining', `only ${refundableCents(order)} cents of ${order.number} remain refundable`);
}

type UnitsOfOrder = Pick<Order, 'units' | 'bonusUnits' | 'priceCents'>;

/** One refund's own share of the order's units (bonus included), rounded down. */
export function refundShare(order: UnitsOfOrder, amountCents: Cents): Hundredths {
  return Math.floor(((order.units + order.bonusUnits) * amountCents) / order.priceCents);
}

/**
 * The units a refund of `amountCents` will take back, as the checkout posts them: its own share,
 * plus the rounding remainder when it completes the price (then everything not yet taken back).
 */
export function unitsTakenBack(order: UnitsOfOrder, earlierRefundsCents: readonly Cents[], amountCents: Cents): Hundredths {
  const earlierCents = earlierRefundsCents.reduce((sum, cents) => sum + cents, 0);
  if (earlierCents + amountCents < order.priceCents) return refundShare(order, amountCents);
  const earlierUnits = earlierRefundsCents.reduce((sum, cents) => sum + refundShare(order, cents), 0);
  return Math.max(0, order.units + order.bonusUnits - earlierUnits);
}

/**
 * Under 'refuse', a refund that would take back more units than the person has is refused, with
 * what is missing; under 'allow_negative' it goes through and the balance may drop below zero.
 */
export function checkUnitsAvailable(policy: RefundPolicy, balance: Hundredths, unitsToTake: Hundredths): void {
  if (policy === 'refuse' && balance < unitsToTake) {
    throw new RefundError('units_spent', `the refund takes back ${unitsToTake} but the balance is ${balance}`, unitsToTake - balance);
  }
}

/**
 * The net and VAT of a refund of `amountCents`, after the `earlier` refunds recorded for the order. A
 * refund that completes the price gives back exactly the VAT not yet given back, so that the credit
 * notes of an order refunded in parts add up to its receipt. Any other refund: a top-up has one VAT
 * rate, and the refund's VAT is computed at it, as the price's was; a quote's order may mix rates
 * (printing and binding), and its VAT is refunded in proportion to the order's, rounded half up.
 */
export function refundVat(
  order: Pick<Order, 'kind' | 'priceCents' | 'vatCents' | 'vatRateBasisPoints'>,
  amountCents: Cents,
  earlier: ReadonlyArray<{ amountCents: Cents; vatCents: Cents }> = [],
): { netCents: Cents; vatCents: Cents } {
  const earlierCents = earlier.reduce((sum, refund) => sum + refund.amountCents, 0);
  if (earlierCents + amountCents >= order.priceCents) {
    const vatCents = Math.min(amountCents, Math.max(0, order.vatCents - earlier.reduce((sum, refund) => sum + refund.vatCents, 0)));
    return { netCents: amountCents - vatCents, vatCents };
  }
  if (order.kind !== 'quote') return vatIncluded(amountCents, order.vatRateBasisPoints);
  if (order.priceCents === 0) return { netCents: amountCents, vatCents: 0 };
  // In BigInt: a quote's total may reach 10^10 cents, and the product would lose precision as a double.
  const [amount, vat, price] = [BigInt(amountCents), BigInt(order.vatCents), BigInt(order.priceCents)];
  const vatCents = Number((2n * amount * vat + price) / (2n * price));
  return { netCents: amountCents - vatCents, vatCents };
}
