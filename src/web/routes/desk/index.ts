import { Router, type RequestHandler } from 'express';
import { canUseQuoteDesk } from '../../../domain/quotes/quote-desk.js';
import { requireUser } from '../../middleware/authentication.js';
import { forbidden } from '../../http-error.js';
import type { DeskDependencies } from './dependencies.js';
import { registerQuoteRoutes } from './quotes.js';
import { deskQuotePaymentRoutes } from './quote-payments.js';

/** The reprography desk's people and admins; anyone else signed in gets 403, visitors are sent to log in. */
const requireQuoteDesk: RequestHandler = (request, response, next) => {
  if (!request.user) return requireUser(request, response, next);
  next(canUseQuoteDesk(request.user) ? undefined : forbidden());
};

/**
 * Every page under /desk: the guard is mounted before any route, so a route added later cannot
 * forget it (test/integration/desk-quotes.test.ts enumerates them all).
 */
export function deskRoutes(deps: DeskDependencies): Router {
  const router = Router();
  router.use('/desk', requireQuoteDesk);
  // Before the quote's pages: it puts the "Paiements" section's data on every one of them.
  router.use(deskQuotePaymentRoutes(deps));
  registerQuoteRoutes(router, deps);
  return router;
}
