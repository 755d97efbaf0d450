import { Router } from 'express';
import type { QuoteRoutesDependencies } from './dependencies.js';
import { quoteDocumentRoutes } from './documents.js';
import { quoteLookupRoutes } from './lookup.js';
import { quotePaymentRoutes } from './payment.js';
import { quoteUnitsPaymentRoutes } from './units-payment.js';

export type { QuoteRoutesDependencies } from './dependencies.js';

/** The customers' pages of a quote, public: find it, check it, pay it, get its receipt. */
export function quoteRoutes(deps: QuoteRoutesDependencies): Router {
  const router = Router();
  // The lookup first: `/quotes/lookup` is not a quote number.
  router.use(quoteLookupRoutes(deps));
  router.use(quoteDocumentRoutes(deps));
  router.use(quoteUnitsPaymentRoutes(deps));
  router.use(quotePaymentRoutes(deps));
  return router;
}
