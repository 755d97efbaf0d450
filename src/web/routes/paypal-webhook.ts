import express, { Router } from 'express';
import type { Logger } from 'pino';
import { ProviderUnreachableError, type Checkout } from '../../domain/checkout.js';
import { WebhookVerificationError, type PaymentGateway } from '../../payments/gateway.js';

/**
 * PayPal's webhook listener: raw body (the signature covers the exact bytes), no session, no CSRF
 * token (the signature authenticates it). 400 without PayPal's headers or with an unreadable event,
 * 401 on a bad signature, 503 when PayPal could not be asked about it, 2xx once handled (PayPal
 * redelivers anything else).
 */
export function payPalWebhookRoutes({ gateway, checkout, logger }: { gateway: PaymentGateway; checkout: Checkout; logger: Logger }): Router {
  const router = Router();
  router.post('/webhooks/paypal', express.raw({ type: () => true, limit: '512kb' }), async (request, response) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    let event;
    try {
      event = await gateway.verifyWebhook(request.headers, body);
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      logger.warn({ reason: error.reason, message: error.message }, 'webhook refused');
      const status = error.reason === 'missing_headers' || error.reason === 'malformed_event' ? 400 : 401;
      response.status(status).json({ error: error.reason });
      return;
    }
    try {
      const outcome = await checkout.handleWebhook(event);
      logger.info({ event: event.id, type: event.type, outcome }, 'webhook handled');
      response.json({ status: outcome });
    } catch (error) {
      if (!(error instanceof ProviderUnreachableError)) throw error;
      // Not recorded as handled: PayPal delivers it again, and the reconciler looks too.
      logger.warn({ event: event.id, type: event.type }, error.message);
      response.status(503).json({ error: 'provider_unreachable' });
    }
  });
  return router;
}
