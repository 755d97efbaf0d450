import type { CreatePaymentInput, CreatedPayment, PaymentGateway, PaymentSnapshot, PaymentWebhookEvent } from '../gateway.js';
import { GatewayError } from '../gateway.js';
import { centsToPayPalValue, payPalValueToCents } from './amounts.js';
import { PayPalClient } from './client.js';
import { createWebhookVerifier, type WebhookVerifierOptions } from './webhook-verifier.js';

/** PayPal's API and buyer-facing hosts. */
export const PAYPAL_HOSTS = {
  live: { api: 'https://api-m.paypal.com', approval: 'https://www.paypal.com' },
  sandbox: { api: 'https://api-m.sandbox.paypal.com', approval: 'https://www.sandbox.paypal.com' },
} as const;

export interface PayPalGatewayOptions {
  apiBaseUrl: string;
  /** Where the buyer may be sent to approve (the payer-action link must be on one of these). */
  approvalOrigins: string[];
  clientId: string;
  clientSecret: string;
  timeoutMs: number;
  webhook: Omit<WebhookVerifierOptions, 'client'>;
}

interface Link {
  rel?: string;
  href?: string;
}

/** The PaymentGateway over PayPal Orders v2 and Payments v2. */
export function createPayPalGateway(options: PayPalGatewayOptions): PaymentGateway {
  const client = new PayPalClient({ baseUrl: options.apiBaseUrl, clientId: options.clientId, clientSecret: options.clientSecret, timeoutMs: options.timeoutMs });
  const verifier = createWebhookVerifier({ ...options.webhook, client });

  return {
    approvalOrigins: options.approvalOrigins,

    async createPayment(input: CreatePaymentInput): Promise<CreatedPayment> {
      const { body } = await client.request('POST', '/v2/checkout/orders', { requestId: input.requestId, body: orderRequest(input) });
      const order = (body ?? {}) as { id?: unknown; links?: Link[] };
      const approvalUrl = approvalLink(order.links);
      if (typeof order.id !== 'string' || !approvalUrl) throw new GatewayError('unknown_outcome', 'PayPal created an order without an id or approval link');
      if (!options.approvalOrigins.includes(new URL(approvalUrl).origin)) {
        throw new GatewayError('rejected', `PayPal's approval link is on an unexpected host: ${new URL(approvalUrl).origin}`);
      }
      return { providerOrderId: order.id, approvalUrl };
    },

    async capture(providerOrderId, requestId) {
      const { body } = await client.request('POST', `/v2/checkout/orders/${encodeURIComponent(providerOrderId)}/capture`, { requestId, body: {} });
      return toSnapshot(body);
    },

    async getPayment(providerOrderId) {
      const { body } = await client.request('GET', `/v2/checkout/orders/${encodeURIComponent(providerOrderId)}`);
      return toSnapshot(body);
    },

    async refund(captureId, { amountCents, currency, requestId }) {
      const { body } = await client.request('POST', `/v2/payments/captures/${encodeURIComponent(captureId)}/refund`, {
        requestId,
        body: { amount: { value: centsToPayPalValue(amountCents), currency_code: currency }, invoice_id: requestId },
      });
      const refund = (body ?? {}) as { id?: unknown; status?: unknown };
      if (typeof refund.id !== 'string') throw new GatewayError('unknown_outcome', 'PayPal answered a refund without an id');
      return { refundId: refund.id, status: String(refund.status) };
    },

    verifyWebhook: (headers, rawBody): Promise<PaymentWebhookEvent> => verifier(headers, rawBody),
  };
}

function orderRequest(input: CreatePaymentInput) {
  return {
    intent: 'CAPTURE',
    purchase_units: [
      {
        reference_id: 'default',
        custom_id: String(input.orderId),
        invoice_id: input.orderNumber,
        description: input.description.slice(0, 127),
        amount: { currency_code: input.currency, value: centsToPayPalValue(input.amountCents) },
      },
    ],
    payment_source: {
      paypal: {
        experience_context: {
          return_url: input.returnUrl,
          cancel_url: input.cancelUrl,
          brand_name: input.brandName.slice(0, 127),
          locale: input.locale === 'fr' ? 'fr-FR' : 'en-GB',
          user_action: 'PAY_NOW',
          shipping_preference: 'NO_SHIPPING',
        },
      },
    },
  };
}

/** `payer-action` in current answers, `approve` in older ones. */
function approvalLink(links: Link[] | undefined): string | null {
  return links?.find((link) => link.rel === 'payer-action')?.href ?? links?.find((link) => link.rel === 'approve')?.href ?? null;
}

/** Reads the parts of an Orders v2 order the portal decides on; anything unreadable is an unknown outcome. */
function toSnapshot(body: unknown): PaymentSnapshot {
  const order = (body ?? {}) as {
    id?: unknown;
    status?: unknown;
    links?: Link[];
    purchase_units?: Array<{
      custom_id?: string;
      amount?: { value?: string; currency_code?: string };
      payments?: {
        captures?: Array<{ id?: string; status?: string; status_details?: { reason?: string }; amount?: { value?: string; currency_code?: string }; custom_id?: string }>;
        refunds?: Array<{ id?: string; status?: string; amount?: { value?: string; currency_code?: string }; invoice_id?: string }>;
      };
    }>;
  };
  if (typeof order.id !== 'string' || typeof order.status !== 'string') throw new GatewayError('unknown_outcome', 'PayPal answered without an order id or status');
  const unit = order.purchase_units?.[0];
  const capture = unit?.payments?.captures?.[0];
  return {
    providerOrderId: order.id,
    status: order.status,
    customId: unit?.custom_id ?? null,
    amountCents: payPalValueToCents(unit?.amount?.value),
    currency: unit?.amount?.currency_code ?? null,
    approvalUrl: approvalLink(order.links),
    capture:
      capture?.id && capture.status
        ? {
            id: capture.id,
            status: capture.status,
            reason: capture.status_details?.reason ?? null,
            amountCents: payPalValueToCents(capture.amount?.value) ?? -1,
            currency: capture.amount?.currency_code ?? '',
            customId: capture.custom_id ?? null,
          }
        : null,
    refunds: (unit?.payments?.refunds ?? []).flatMap((refund) =>
      refund.id && refund.status
        ? [{ id: refund.id, status: refund.status, amountCents: payPalValueToCents(refund.amount?.value) ?? 0, currency: refund.amount?.currency_code ?? '', invoiceId: refund.invoice_id ?? null }]
        : [],
    ),
  };
}
