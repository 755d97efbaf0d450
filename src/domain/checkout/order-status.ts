import { DomainError } from '../shared/errors.js';

export const ORDER_STATUSES = [
  'created',
  'awaiting_payment',
  'approved',
  'capture_pending',
  'paid',
  'partially_refunded',
  'refunded',
  'reversed',
  'cancelled',
  'expired',
  'failed',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/**
 * Where each status may go forward: this graph has no cycle except a partial refund following
 * another. `paid` means the units were credited; a refund or a reversal debits them again with a
 * compensating ledger transaction. A cancelled or expired order may still become paid: if PayPal did
 * take the money (the buyer paid in another tab, a capture raced the expiry), the units are owed.
 */
const NEXT: Record<OrderStatus, readonly OrderStatus[]> = {
  created: ['awaiting_payment', 'cancelled', 'expired', 'failed'],
  awaiting_payment: ['approved', 'capture_pending', 'paid', 'cancelled', 'expired', 'failed'],
  approved: ['capture_pending', 'paid', 'expired', 'failed'],
  capture_pending: ['paid', 'failed'],
  paid: ['partially_refunded', 'refunded', 'reversed'],
  partially_refunded: ['partially_refunded', 'refunded', 'reversed'],
  refunded: [],
  reversed: [],
  cancelled: ['paid'],
  expired: ['paid'],
  failed: [],
};

/**
 * The only moves back, each with why. With them, every cycle of the graph stays within
 * {awaiting_payment, approved} (besides a partial refund following another), and no walk leads from a
 * credited status (CREDITED_STATUSES) to any other: both tested over every walk.
 */
export const WAYS_BACK: ReadonlyArray<{ from: OrderStatus; to: OrderStatus; reason: string }> = [
  {
    from: 'approved',
    to: 'awaiting_payment',
    reason:
      'PayPal refused the capture for the buyer (card declined…): nothing was taken, and only the buyer can act now, by approving again at PayPal with another way to pay, or by cancelling',
  },
];

/** Statuses in which the payment may still be captured and credited. */
export const OPEN_STATUSES: readonly OrderStatus[] = ['awaiting_payment', 'approved', 'capture_pending'];
/** Closed without payment on our side; still credited if PayPal turns out to have taken the money. */
export const CLOSED_UNPAID_STATUSES: readonly OrderStatus[] = ['cancelled', 'expired'];
/** Statuses of orders whose units were credited (a refund or reversal may have taken some back since). */
export const CREDITED_STATUSES: readonly OrderStatus[] = ['paid', 'partially_refunded', 'refunded', 'reversed'];

export class OrderStatusError extends DomainError<'invalid_transition'> {}

export function canMove(from: OrderStatus, to: OrderStatus): boolean {
  return nextStatuses(from).includes(to);
}

export function assertMove(from: OrderStatus, to: OrderStatus): void {
  if (!canMove(from, to)) throw new OrderStatusError('invalid_transition', `an order cannot go from ${from} to ${to}`);
}

export function nextStatuses(status: OrderStatus): readonly OrderStatus[] {
  return [...NEXT[status], ...WAYS_BACK.filter((way) => way.from === status).map((way) => way.to)];
}
