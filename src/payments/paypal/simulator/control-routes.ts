import express, { type Router } from 'express';
import { parseFault } from './faults.js';
import type { PayPalSimulator } from './types.js';

const ORDER_ACTIONS = ['approve', 'cancel', 'complete-pending', 'deny-pending', 'reverse', 'refund'] as const;
type OrderAction = (typeof ORDER_ACTIONS)[number];

/**
 * The control API for people running `npm run paypal-sim` by hand: the simulator's own methods over
 * HTTP, without authentication. It belongs to the simulator's server only, never to the portal.
 */
export function controlRouter(simulator: PayPalSimulator): Router {
  const router = express.Router();
  router.use(express.json({ limit: '16kb' }));

  router.post('/simulator/faults', (request, response) => {
    const { fault, orderId } = (request.body ?? {}) as { fault?: unknown; orderId?: unknown };
    if (orderId !== undefined && typeof orderId !== 'string') return void response.status(400).json({ error: 'orderId must be a string' });
    try {
      simulator.setFault(parseFault(fault), orderId === undefined ? undefined : { orderId });
    } catch (error) {
      return void response.status(400).json({ error: (error as Error).message });
    }
    response.status(204).end();
  });

  router.delete('/simulator/faults', (_request, response) => {
    simulator.clearFaults();
    response.status(204).end();
  });

  router.post('/simulator/webhooks/flush', async (_request, response) => {
    await simulator.flushWebhooks();
    response.json({ deliveries: simulator.deliveries });
  });

  router.post('/simulator/orders/:id/:action', (request, response) => {
    const orderId = String(request.params.id);
    const action = String(request.params.action) as OrderAction;
    if (!ORDER_ACTIONS.includes(action)) return void response.status(404).json({ error: `unknown action; use one of ${ORDER_ACTIONS.join(', ')}` });
    const body = (request.body ?? {}) as { payerId?: unknown; email?: unknown; amount?: unknown };
    const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
    try {
      let redirectUrl: string | undefined;
      if (action === 'approve') redirectUrl = simulator.approve(orderId, { payerId: text(body.payerId), email: text(body.email) });
      else if (action === 'cancel') redirectUrl = simulator.cancel(orderId);
      else if (action === 'complete-pending') simulator.completePendingCapture(orderId);
      else if (action === 'deny-pending') simulator.denyPendingCapture(orderId);
      else if (action === 'reverse') simulator.reverseCapture(orderId);
      else simulator.refundCapture(orderId, text(body.amount));
      response.json({ ...(redirectUrl ? { redirectUrl } : {}), order: simulator.order(orderId) });
    } catch (error) {
      response.status(409).json({ error: (error as Error).message });
    }
  });

  return router;
}
