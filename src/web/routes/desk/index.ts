import { Router, type RequestHandler } from 'express';
import { canUseQuoteDesk } from '../../../domain/quotes/quote-desk.js';
import { requireUser } from '../../middleware/authentication.js';
import { forbidden } from '../../http-error.js';
import type { DeskDependencies } from './dependencies.js';
import { registerQuoteRoutes } from './quotes.js';

/** The reprography desk's people and admins; anyone else signed in gets 403, visitors are sent to log in. */
const requireQuoteDesk: RequestHandler = (request, response, next) => {
  if (!request.user) return requireUser(request, response, next);
  next(canUseQuoteDesk(request.user) ? undefined : forbidden());
};

/** A calendar day (YYYY-MM-DD) as the reader's language writes it: "23 décembre 2026". */
const dayFormatting: RequestHandler = (_request, response, next) => {
  const format = new Intl.DateTimeFormat(response.locals.locale as string, { dateStyle: 'long', timeZone: 'UTC' });
  response.locals.formatDay = (day: string) => format.format(new Date(`${day}T00:00:00Z`));
  next();
};

/**
 * Every page under /desk: the guard is mounted before any route, so a route added later cannot
 * forget it (test/integration/desk-quotes.test.ts enumerates them all).
 */
export function deskRoutes(deps: DeskDependencies): Router {
  const router = Router();
  router.use('/desk', requireQuoteDesk, dayFormatting);
  registerQuoteRoutes(router, deps);
  return router;
}
