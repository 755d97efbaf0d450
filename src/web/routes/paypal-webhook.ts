import express, { Router } from 'express';
import type { Logger } from 'pino';
import { ProviderUnreachableError, type Checkout } from '../../services/checkout/checkout.js';
import { WebhookVerificationError, type PaymentGateway } from '../../payments/gateway.js';

/**
 * PayPal's webhook listener: raw body (the signature covers the exact bytes), no session, no CSRF
 * token (the signature authenticates it). 400 without PayPal's headers, with a transmission id, time
 * or event id unlike PayPal's, or with a transmission older than the freshness window (PayPal stopped
 * retrying it: a replay); 401 on a bad signature; 503 when PayPal could not be asked about it (nothing
 * recorded, so PayPal's redelivery is handled); 200 once handled, and 200 again without effect for a
 * transmission already answered (a duplicate or a replay, whatever body it carries now).
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
      const status = error.reason === 'missing_headers' || error.reason === 'malformed_transmission' || error.reason === 'malformed_event' ? 400 : 401;
      response.status(status).json({ error: error.reason });
      return;
    }
    try {
      const outcome = await checkout.handleWebhook(event);
      if (outcome === 'stale') {
        logger.warn({ event: event.id, transmission: event.transmission.id, time: event.transmission.time }, 'webhook refused: transmission too old or ahead of time');
        response.status(400).json({ error: 'stale_transmission' });
        return;
      }
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
