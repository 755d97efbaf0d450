import type { Locale } from '../i18n/index.js';

/**
 * What the portal needs from a payment provider. PayPal implements it (src/payments/paypal); the
 * same implementation runs against PayPal live, the sandbox and the project's simulator.
 */
export interface PaymentGateway {
  /** Hosts the buyer may be redirected to (also allowed in the CSP `form-action`). */
  readonly approvalOrigins: readonly string[];
  createPayment(input: CreatePaymentInput): Promise<CreatedPayment>;
  /** Captures an approved payment; `requestId` makes retries safe (same id → same effect, once). */
  capture(providerOrderId: string, requestId: string): Promise<PaymentSnapshot>;
  getPayment(providerOrderId: string): Promise<PaymentSnapshot>;
  /** Refunds once per `requestId`, which the refund also carries as its invoice id (RefundSnapshot.invoiceId). */
  refund(captureId: string, input: { amountCents: number; currency: string; requestId: string }): Promise<{ refundId: string; status: string }>;
  /** Verifies a webhook delivery against its raw body; throws WebhookVerificationError. */
  verifyWebhook(headers: Record<string, string | string[] | undefined>, rawBody: Buffer): Promise<PaymentWebhookEvent>;
}

export interface CreatePaymentInput {
  /** Our order id: PayPal's custom_id, echoed back on captures and webhooks. */
  orderId: number;
  /** Our human order number: PayPal's invoice_id. */
  orderNumber: string;
  amountCents: number;
  currency: string;
  description: string;
  returnUrl: string;
  cancelUrl: string;
  locale: Locale;
  brandName: string;
  requestId: string;
}

export interface CreatedPayment {
  providerOrderId: string;
  approvalUrl: string;
}

export interface CaptureSnapshot {
  id: string;
  /** COMPLETED, PENDING, DECLINED, FAILED, REFUNDED, PARTIALLY_REFUNDED (and REVERSED after a chargeback). */
  status: string;
  reason: string | null;
  amountCents: number;
  currency: string;
  customId: string | null;
}

export interface RefundSnapshot {
  id: string;
  status: string;
  amountCents: number;
  currency: string;
  /** The refund's invoice_id: the request id of a refund the portal asked for, else what PayPal put there. */
  invoiceId: string | null;
}

/** The provider's view of one payment, re-fetched whenever anything happens (events are only triggers). */
export interface PaymentSnapshot {
  providerOrderId: string;
  /** CREATED, SAVED, PAYER_ACTION_REQUIRED, APPROVED, VOIDED or COMPLETED. */
  status: string;
  customId: string | null;
  amountCents: number | null;
  currency: string | null;
  approvalUrl: string | null;
  capture: CaptureSnapshot | null;
  refunds: RefundSnapshot[];
}

export interface PaymentWebhookEvent {
  id: string;
  type: string;
  /** The delivery that carried it: PAYPAL-TRANSMISSION-ID and PAYPAL-TRANSMISSION-TIME, both covered by the signature. */
  transmission: { id: string; time: Date };
  /** The provider's order id when the event names it (directly or through its related ids). */
  providerOrderId: string | null;
  /** Our order id as echoed in custom_id, when present. */
  customId: string | null;
}

/**
 * What went wrong talking to the provider. `unknown_outcome` (timeout, 5xx, unreadable answer)
 * means the operation may or may not have happened: look the payment up before deciding anything.
 */
export type GatewayErrorKind = 'unknown_outcome' | 'already_captured' | 'instrument_declined' | 'not_approved' | 'not_found' | 'rejected';

export class GatewayError extends Error {
  constructor(
    readonly kind: GatewayErrorKind,
    message: string,
    readonly details: { status?: number; issue?: string; debugId?: string; approvalUrl?: string } = {},
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}

export class WebhookVerificationError extends Error {
  constructor(
    /** missing_headers, malformed_transmission, malformed_event → 400; anything else → 401. */
    readonly reason: 'missing_headers' | 'malformed_transmission' | 'untrusted_certificate' | 'bad_signature' | 'unsupported_algorithm' | 'malformed_event',
    message: string,
  ) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}
