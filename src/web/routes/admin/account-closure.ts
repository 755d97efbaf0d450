import type { Request, Response, Router } from 'express';
import type { Translate } from '../../../i18n/index.js';
import { AccountClosureError, anonymiseAccount, closeAccount, type ClosureOutcome } from '../../../services/people/anonymisation.js';
import { notFound } from '../../http-error.js';
import type { AdminDependencies } from './dependencies.js';

/** Refusals the person page explains under the closure section: all but the admin's own account (400) are conflicts (409). */
const REFUSAL_STATUS: Record<Exclude<AccountClosureError['code'], 'user_not_found'>, number> = {
  own_account: 400,
  not_closed: 409,
  payment_in_flight: 409,
  refund_in_flight: 409,
  quote_open: 409,
  username_taken: 409,
};

/**
 * Closing an account and anonymising a closed one, from the person page (admins only, as every
 * /admin route; audited by the services). A refusal changes nothing; the person page shows why
 * (`showRefusal`), with REFUSAL_STATUS.
 */
export function registerAccountClosureRoutes(
  router: Router,
  { db, clock }: AdminDependencies,
  showRefusal: (request: Request, response: Response, problem: string, status: number) => Promise<void>,
): void {
  const actions: Array<[string, typeof closeAccount, string]> = [
    ['close', closeAccount, 'closed'],
    ['anonymise', anonymiseAccount, 'anonymised'],
  ];
  for (const [path, action, notice] of actions) {
    router.post(`/admin/people/:username/${path}`, async (request, response) => {
      let outcome: ClosureOutcome;
      try {
        outcome = await action({ db, clock }, String(request.params.username), request.user!);
      } catch (error) {
        if (!(error instanceof AccountClosureError)) throw error;
        if (error.code === 'user_not_found') throw notFound();
        const t = response.locals.t as Translate;
        return showRefusal(request, response, t(`retention.closure.refusals.${error.code}`), REFUSAL_STATUS[error.code]);
      }
      // An anonymised account has a new username: its page is found under it.
      response.redirect(303, `/admin/people/${encodeURIComponent(outcome.username)}?notice=${outcome.outcome === 'changed' ? notice : 'unchanged'}`);
    });
  }
}
