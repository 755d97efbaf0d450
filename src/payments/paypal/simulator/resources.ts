import type { Link } from './errors.js';
import { money, toCents } from './money.js';
import type { PaymentStore, StoredCapture, StoredOrder, StoredRefund } from './store.js';

export interface Merchant {
  email: string;
  merchantId: string;
}

/** How much of an order an answer shows: the whole order, or PayPal's default minimal answers. */
export type OrderView = 'full' | 'minimal-create' | 'minimal-capture';

/** PayPal writes times to the second: 2024-05-01T10:00:00Z. */
export const paypalTime = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The buyer's approval page for an order. */
export const payerActionUrl = (baseUrl: string, orderId: string): string => `${baseUrl}/checkoutnow?token=${encodeURIComponent(orderId)}`;

const SELLER_PROTECTION = { status: 'ELIGIBLE', dispute_categories: ['ITEM_NOT_RECEIVED', 'UNAUTHORIZED_TRANSACTION'] };

/** Turns stored state into the JSON PayPal answers, with links on the simulator's own origin. */
export class Representations {
  constructor(
    private readonly store: PaymentStore,
    private readonly baseUrl: () => string,
    private readonly merchant: Merchant,
  ) {}

  order(order: StoredOrder, view: OrderView = 'full'): Record<string, unknown> {
    const paymentSource = { paypal: order.payer ? this.wallet(order) : {} };
    if (view === 'minimal-create') return { id: order.id, status: order.status, payment_source: paymentSource, links: this.orderLinks(order) };
    const { purchaseUnit } = order.request;
    const payments = this.payments(order);
    const unit =
      view === 'full'
        ? { ...purchaseUnit, payee: { email_address: this.merchant.email, merchant_id: this.merchant.merchantId }, ...(payments ? { payments } : {}) }
        : { reference_id: purchaseUnit.reference_id, ...(payments ? { payments } : {}) };
    return {
      id: order.id,
      ...(view === 'full' ? { intent: 'CAPTURE' } : {}),
      status: order.status,
      payment_source: paymentSource,
      purchase_units: [unit],
      ...(order.payer
        ? { payer: { name: { given_name: order.payer.givenName, surname: order.payer.surname }, email_address: order.payer.email, payer_id: order.payer.payerId } }
        : {}),
      ...(view === 'full' ? { create_time: paypalTime(order.createdAt), update_time: paypalTime(order.updatedAt) } : {}),
      links: this.orderLinks(order),
    };
  }

  /** `standalone`: as GET /v2/payments/captures/{id} and webhooks show it, with the payee and the order id. */
  capture(capture: StoredCapture, standalone: boolean): Record<string, unknown> {
    const unit = this.store.order(capture.orderId)?.request.purchaseUnit;
    const settled = capture.status !== 'PENDING' && capture.status !== 'DECLINED';
    const grossCents = toCents(capture.amount.value);
    const currency = capture.amount.currency_code;
    return {
      id: capture.id,
      status: capture.status,
      ...(capture.pendingReason ? { status_details: { reason: capture.pendingReason } } : {}),
      amount: capture.amount,
      final_capture: true,
      seller_protection: SELLER_PROTECTION,
      // PayPal shows no breakdown while the money has not moved.
      ...(settled
        ? {
            seller_receivable_breakdown: {
              gross_amount: capture.amount,
              paypal_fee: money(currency, capture.feeCents),
              net_amount: money(currency, grossCents - capture.feeCents),
            },
          }
        : {}),
      ...(unit?.custom_id !== undefined ? { custom_id: unit.custom_id } : {}),
      ...(unit?.invoice_id !== undefined ? { invoice_id: unit.invoice_id } : {}),
      ...(standalone
        ? {
            supplementary_data: { related_ids: { order_id: capture.orderId } },
            payee: { email_address: this.merchant.email, merchant_id: this.merchant.merchantId },
          }
        : {}),
      links: [
        { href: `${this.baseUrl()}/v2/payments/captures/${capture.id}`, rel: 'self', method: 'GET' },
        { href: `${this.baseUrl()}/v2/payments/captures/${capture.id}/refund`, rel: 'refund', method: 'POST' },
        { href: `${this.baseUrl()}/v2/checkout/orders/${capture.orderId}`, rel: 'up', method: 'GET' },
      ],
      create_time: paypalTime(capture.createdAt),
      update_time: paypalTime(capture.updatedAt),
    };
  }

  /** `forEvent`: webhooks also carry the related order and capture ids. */
  refund(refund: StoredRefund, forEvent: boolean): Record<string, unknown> {
    const currency = refund.amount.currency_code;
    const cents = toCents(refund.amount.value);
    return {
      id: refund.id,
      status: 'COMPLETED',
      amount: refund.amount,
      seller_payable_breakdown: {
        gross_amount: refund.amount,
        paypal_fee: money(currency, refund.feeCents),
        net_amount: money(currency, cents - refund.feeCents),
        total_refunded_amount: money(currency, refund.totalRefundedCents),
      },
      ...(refund.invoiceId !== undefined ? { invoice_id: refund.invoiceId } : {}),
      ...(refund.customId !== undefined ? { custom_id: refund.customId } : {}),
      ...(refund.noteToPayer !== undefined ? { note_to_payer: refund.noteToPayer } : {}),
      ...(forEvent ? { supplementary_data: { related_ids: { order_id: refund.orderId, capture_id: refund.captureId } } } : {}),
      links: [
        { href: `${this.baseUrl()}/v2/payments/refunds/${refund.id}`, rel: 'self', method: 'GET' },
        { href: `${this.baseUrl()}/v2/payments/captures/${refund.captureId}`, rel: 'up', method: 'GET' },
      ],
      create_time: paypalTime(refund.createdAt),
      update_time: paypalTime(refund.createdAt),
    };
  }

  private wallet(order: StoredOrder): Record<string, unknown> {
    const payer = order.payer;
    if (!payer) return {};
    return { email_address: payer.email, account_id: payer.payerId, account_status: 'VERIFIED', name: { given_name: payer.givenName, surname: payer.surname } };
  }

  private payments(order: StoredOrder): Record<string, unknown> | undefined {
    const capture = order.captureId ? this.store.capture(order.captureId) : undefined;
    if (!capture) return undefined;
    const refunds = this.store.refundsOf(capture.id);
    return {
      captures: [this.capture(capture, false)],
      ...(refunds.length > 0 ? { refunds: refunds.map((refund) => this.refund(refund, false)) } : {}),
    };
  }

  private orderLinks(order: StoredOrder): Link[] {
    const self = `${this.baseUrl()}/v2/checkout/orders/${order.id}`;
    const links: Link[] = [{ href: self, rel: 'self', method: 'GET' }];
    const awaitingBuyer = order.status === 'CREATED' || order.status === 'PAYER_ACTION_REQUIRED' || (order.status === 'APPROVED' && order.declined);
    if (awaitingBuyer) links.push({ href: payerActionUrl(this.baseUrl(), order.id), rel: 'payer-action', method: 'GET' });
    else if (order.status === 'APPROVED') links.push({ href: `${self}/capture`, rel: 'capture', method: 'POST' });
    return links;
  }
}
