import { newEventId } from './ids.js';
import { paypalTime, type Representations } from './resources.js';
import type { StoreEvent } from './store.js';
import type { WebhookEvent } from './webhooks.js';

/**
 * The webhook event for a change, resource as of now. As in PayPal's own samples, a reversal arrives
 * as a refund-shaped resource whose `up` link is the capture.
 */
export function webhookEventOf(change: StoreEvent, representations: Representations, createdAt: Date, baseUrl: string): { event: WebhookEvent; orderId: string } {
  const id = newEventId();
  const envelope = (resourceType: WebhookEvent['resource_type'], summary: string, resource: Record<string, unknown>): WebhookEvent => ({
    id,
    event_version: '1.0',
    create_time: paypalTime(createdAt),
    resource_type: resourceType,
    resource_version: '2.0',
    event_type: change.type,
    summary,
    resource,
    links: [{ href: `${baseUrl}/v1/notifications/webhooks-events/${id}`, rel: 'self', method: 'GET' }],
  });
  switch (change.type) {
    case 'CHECKOUT.ORDER.APPROVED':
    case 'CHECKOUT.PAYMENT-APPROVAL.REVERSED': {
      const summary = change.type === 'CHECKOUT.ORDER.APPROVED' ? 'An order has been approved by buyer' : 'A payment approval has been reversed';
      return { event: envelope('checkout-order', summary, representations.order(change.order)), orderId: change.order.id };
    }
    case 'PAYMENT.CAPTURE.COMPLETED':
    case 'PAYMENT.CAPTURE.PENDING':
    case 'PAYMENT.CAPTURE.DENIED': {
      const { value, currency_code: currency } = change.capture.amount;
      const outcome = { 'PAYMENT.CAPTURE.COMPLETED': 'completed', 'PAYMENT.CAPTURE.PENDING': 'pending', 'PAYMENT.CAPTURE.DENIED': 'denied' }[change.type];
      const summary = `Payment ${outcome} for ${value} ${currency}`;
      return { event: envelope('capture', summary, representations.capture(change.capture, true)), orderId: change.capture.orderId };
    }
    case 'PAYMENT.CAPTURE.REFUNDED':
    case 'PAYMENT.CAPTURE.REVERSED': {
      const { value, currency_code: currency } = change.refund.amount;
      const summary = `A ${value} ${currency} capture payment was ${change.type === 'PAYMENT.CAPTURE.REFUNDED' ? 'refunded' : 'reversed'}`;
      return { event: envelope('refund', summary, representations.refund(change.refund, true)), orderId: change.refund.orderId };
    }
  }
}
