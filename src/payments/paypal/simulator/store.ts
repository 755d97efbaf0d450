import { resourceNotFound, unprocessable } from './errors.js';
import { newAccountId, newTransactionId } from './ids.js';
import { money, paypalFeeCents, toCents, type Money } from './money.js';
import type { OrderRequest } from './order-request.js';

export type OrderStatus = 'CREATED' | 'PAYER_ACTION_REQUIRED' | 'APPROVED' | 'COMPLETED' | 'VOIDED';
/** REVERSED is not in the Payments v2 capture_status enum; the portal reads it after a chargeback. */
export type CaptureStatus = 'COMPLETED' | 'PENDING' | 'DECLINED' | 'PARTIALLY_REFUNDED' | 'REFUNDED' | 'REVERSED';

/** PayPal gives the buyer 3 hours to approve, then 3 hours to capture; past that the order is voided. */
const APPROVAL_WINDOW_MS = 3 * 3600_000;
const CAPTURE_WINDOW_MS = 3 * 3600_000;

export interface Payer {
  payerId: string;
  email: string;
  givenName: string;
  surname: string;
}

export interface StoredOrder {
  readonly id: string;
  readonly request: OrderRequest;
  status: OrderStatus;
  payer: Payer | null;
  /** The last capture was declined: capturing again needs the buyer to approve again. */
  declined: boolean;
  captureId: string | null;
  readonly createdAt: Date;
  updatedAt: Date;
  approvedAt: Date | null;
}

export interface StoredCapture {
  readonly id: string;
  readonly orderId: string;
  status: CaptureStatus;
  pendingReason: string | null;
  readonly amount: Money;
  readonly feeCents: number;
  refundedCents: number;
  refundedFeeCents: number;
  readonly createdAt: Date;
  updatedAt: Date;
}

export interface StoredRefund {
  readonly id: string;
  readonly captureId: string;
  readonly orderId: string;
  /** A reversal is PayPal taking the money back after a chargeback, not a refund the merchant made. */
  readonly kind: 'refund' | 'reversal';
  readonly amount: Money;
  readonly feeCents: number;
  /** Refunded from the capture so far, this one included. */
  readonly totalRefundedCents: number;
  readonly customId?: string;
  readonly invoiceId?: string;
  readonly noteToPayer?: string;
  readonly createdAt: Date;
}

export type CaptureOutcome = { kind: 'completed' } | { kind: 'pending'; reason: string } | { kind: 'declined' } | { kind: 'refused'; issue: string };

export interface RefundRequest {
  amount?: Money;
  custom_id?: string;
  invoice_id?: string;
  note_to_payer?: string;
}

export type StoreEvent =
  | { type: 'CHECKOUT.ORDER.APPROVED' | 'CHECKOUT.PAYMENT-APPROVAL.REVERSED'; order: StoredOrder }
  | { type: 'PAYMENT.CAPTURE.COMPLETED' | 'PAYMENT.CAPTURE.PENDING' | 'PAYMENT.CAPTURE.DENIED'; capture: StoredCapture }
  | { type: 'PAYMENT.CAPTURE.REFUNDED' | 'PAYMENT.CAPTURE.REVERSED'; refund: StoredRefund };

export interface StoreDependencies {
  now: () => Date;
  /** Called synchronously after each change, so the event sees the state of that moment. */
  emit: (event: StoreEvent) => void;
  /** Where the buyer approves, for the INSTRUMENT_DECLINED answer. */
  payerActionUrl: (orderId: string) => string;
}

/** Orders, captures and refunds with PayPal's state rules. Refusals are thrown as PayPal answers them. */
export class PaymentStore {
  private readonly orders = new Map<string, StoredOrder>();
  private readonly captures = new Map<string, StoredCapture>();
  private readonly refunds = new Map<string, StoredRefund>();
  private readonly invoiceIds = new Set<string>();

  constructor(private readonly deps: StoreDependencies) {}

  createOrder(request: OrderRequest): StoredOrder {
    const invoiceId = request.purchaseUnit.invoice_id;
    if (invoiceId !== undefined && this.invoiceIds.has(invoiceId)) throw unprocessable('orders', 'DUPLICATE_INVOICE_ID');
    if (invoiceId !== undefined) this.invoiceIds.add(invoiceId);
    const now = this.deps.now();
    const order: StoredOrder = {
      id: newTransactionId(),
      request,
      status: 'PAYER_ACTION_REQUIRED',
      payer: null,
      declined: false,
      captureId: null,
      createdAt: now,
      updatedAt: now,
      approvedAt: null,
    };
    this.orders.set(order.id, order);
    return order;
  }

  order(orderId: string): StoredOrder | undefined {
    const order = this.orders.get(orderId);
    if (order) this.expireIfDue(order);
    return order;
  }

  /** The order while the buyer may still approve it. */
  approvableOrder(orderId: string): StoredOrder | undefined {
    const order = this.order(orderId);
    return order && order.status !== 'COMPLETED' && order.status !== 'VOIDED' ? order : undefined;
  }

  capture(captureId: string): StoredCapture | undefined {
    return this.captures.get(captureId);
  }

  refund(refundId: string): StoredRefund | undefined {
    return this.refunds.get(refundId);
  }

  /** The merchant's refunds of a capture, oldest first (a chargeback reversal is not one of them). */
  refundsOf(captureId: string): StoredRefund[] {
    return [...this.refunds.values()].filter((refund) => refund.captureId === captureId && refund.kind === 'refund');
  }

  approve(orderId: string, payer: Partial<Pick<Payer, 'payerId' | 'email'>> = {}): StoredOrder {
    const order = this.approvableOrder(orderId);
    if (!order) throw new Error(`order ${orderId} is unknown or can no longer be approved`);
    const now = this.deps.now();
    order.payer = { payerId: payer.payerId ?? newAccountId(), email: payer.email ?? 'buyer@example.com', givenName: 'Sim', surname: 'Buyer' };
    order.status = 'APPROVED';
    order.declined = false;
    order.approvedAt = now;
    order.updatedAt = now;
    this.deps.emit({ type: 'CHECKOUT.ORDER.APPROVED', order });
    return order;
  }

  captureOrder(orderId: string, outcome: CaptureOutcome): StoredOrder {
    const order = this.order(orderId);
    if (!order) throw resourceNotFound('orders');
    if (order.status === 'COMPLETED') throw unprocessable('orders', 'ORDER_ALREADY_CAPTURED');
    if (order.status === 'VOIDED') throw unprocessable('orders', 'TRANSACTION_REFUSED');
    if (order.status !== 'APPROVED') throw unprocessable('orders', 'ORDER_NOT_APPROVED');
    if (outcome.kind === 'refused') throw unprocessable('orders', outcome.issue);
    const now = this.deps.now();
    if (order.declined || outcome.kind === 'declined') {
      order.declined = true;
      order.updatedAt = now;
      throw unprocessable('orders', 'INSTRUMENT_DECLINED', [{ href: this.deps.payerActionUrl(order.id), rel: 'redirect', method: 'GET' }]);
    }
    const amount = order.request.purchaseUnit.amount;
    const capture: StoredCapture = {
      id: newTransactionId(),
      orderId: order.id,
      status: outcome.kind === 'pending' ? 'PENDING' : 'COMPLETED',
      pendingReason: outcome.kind === 'pending' ? outcome.reason : null,
      amount,
      feeCents: paypalFeeCents(toCents(amount.value)),
      refundedCents: 0,
      refundedFeeCents: 0,
      createdAt: now,
      updatedAt: now,
    };
    this.captures.set(capture.id, capture);
    order.status = 'COMPLETED';
    order.captureId = capture.id;
    order.updatedAt = now;
    this.deps.emit({ type: capture.status === 'PENDING' ? 'PAYMENT.CAPTURE.PENDING' : 'PAYMENT.CAPTURE.COMPLETED', capture });
    return order;
  }

  refundCapture(captureId: string, request: RefundRequest): StoredRefund {
    const capture = this.captures.get(captureId);
    if (!capture) throw resourceNotFound('payments');
    const refusal = REFUND_REFUSALS[capture.status];
    if (refusal) throw unprocessable('payments', refusal);
    const grossCents = toCents(capture.amount.value);
    const remainingCents = grossCents - capture.refundedCents;
    if (request.amount && request.amount.currency_code !== capture.amount.currency_code) throw unprocessable('payments', 'REFUND_CAPTURE_CURRENCY_MISMATCH');
    const cents = request.amount ? toCents(request.amount.value) : remainingCents;
    if (cents === 0) throw unprocessable('payments', 'CANNOT_BE_ZERO_OR_NEGATIVE');
    if (cents > remainingCents) throw unprocessable('payments', 'REFUND_AMOUNT_EXCEEDED');
    // The fee goes back in proportion; the last refund takes whatever is left of it, so the parts add up.
    const feeCents = cents === remainingCents ? capture.feeCents - capture.refundedFeeCents : Math.round((capture.feeCents * cents) / grossCents);
    const unit = this.orders.get(capture.orderId)?.request.purchaseUnit;
    capture.refundedCents += cents;
    capture.refundedFeeCents += feeCents;
    capture.status = capture.refundedCents === grossCents ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
    const refund = this.recordRefund(capture, 'refund', cents, feeCents, {
      customId: request.custom_id ?? unit?.custom_id,
      invoiceId: request.invoice_id ?? unit?.invoice_id,
      noteToPayer: request.note_to_payer,
    });
    this.deps.emit({ type: 'PAYMENT.CAPTURE.REFUNDED', refund });
    return refund;
  }

  completePendingCapture(orderId: string): void {
    const capture = this.captureOfOrder(orderId, ['PENDING']);
    capture.status = 'COMPLETED';
    capture.pendingReason = null;
    capture.updatedAt = this.deps.now();
    this.deps.emit({ type: 'PAYMENT.CAPTURE.COMPLETED', capture });
  }

  denyPendingCapture(orderId: string): void {
    const capture = this.captureOfOrder(orderId, ['PENDING']);
    capture.status = 'DECLINED';
    capture.pendingReason = null;
    capture.updatedAt = this.deps.now();
    this.deps.emit({ type: 'PAYMENT.CAPTURE.DENIED', capture });
  }

  /** A chargeback: PayPal takes back what was not refunded yet, and reports it as a refund-shaped reversal. */
  reverseCapture(orderId: string): void {
    const capture = this.captureOfOrder(orderId, ['COMPLETED', 'PARTIALLY_REFUNDED']);
    const cents = toCents(capture.amount.value) - capture.refundedCents;
    capture.refundedCents += cents;
    capture.status = 'REVERSED';
    const unit = this.orders.get(capture.orderId)?.request.purchaseUnit;
    const reversal = this.recordRefund(capture, 'reversal', cents, 0, { customId: unit?.custom_id, invoiceId: unit?.invoice_id, noteToPayer: 'Payment reversed' });
    this.deps.emit({ type: 'PAYMENT.CAPTURE.REVERSED', refund: reversal });
  }

  private captureOfOrder(orderId: string, allowed: readonly CaptureStatus[]): StoredCapture {
    const captureId = this.orders.get(orderId)?.captureId;
    const capture = captureId ? this.captures.get(captureId) : undefined;
    if (!capture) throw new Error(`order ${orderId} is unknown or not captured`);
    if (!allowed.includes(capture.status)) throw new Error(`the capture of order ${orderId} is ${capture.status}, not ${allowed.join(' or ')}`);
    return capture;
  }

  private recordRefund(
    capture: StoredCapture,
    kind: StoredRefund['kind'],
    cents: number,
    feeCents: number,
    references: Pick<StoredRefund, 'customId' | 'invoiceId' | 'noteToPayer'>,
  ): StoredRefund {
    const now = this.deps.now();
    capture.updatedAt = now;
    const refund: StoredRefund = {
      id: newTransactionId(),
      captureId: capture.id,
      orderId: capture.orderId,
      kind,
      amount: money(capture.amount.currency_code, cents),
      feeCents,
      totalRefundedCents: capture.refundedCents,
      ...references,
      createdAt: now,
    };
    this.refunds.set(refund.id, refund);
    return refund;
  }

  private expireIfDue(order: StoredOrder): void {
    if (order.status === 'COMPLETED' || order.status === 'VOIDED') return;
    const deadline = order.approvedAt ? order.approvedAt.getTime() + CAPTURE_WINDOW_MS : order.createdAt.getTime() + APPROVAL_WINDOW_MS;
    const now = this.deps.now();
    if (now.getTime() < deadline) return;
    const wasApproved = order.status === 'APPROVED';
    order.status = 'VOIDED';
    order.updatedAt = now;
    if (wasApproved) this.deps.emit({ type: 'CHECKOUT.PAYMENT-APPROVAL.REVERSED', order });
  }
}

/** Capture states that cannot be refunded, and the issue PayPal names. */
const REFUND_REFUSALS: Partial<Record<CaptureStatus, string>> = {
  PENDING: 'PENDING_CAPTURE',
  DECLINED: 'REFUND_NOT_ALLOWED',
  REFUNDED: 'CAPTURE_FULLY_REFUNDED',
  REVERSED: 'REFUND_NOT_PERMITTED_DUE_TO_CHARGEBACK',
};
