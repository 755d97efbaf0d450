import type { Router } from 'express';
import { AccountClosureError, anonymiseAccount, closeAccount, type ClosureOutcome } from '../../../services/people/anonymisation.js';
import { HttpError, notFound } from '../../http-error.js';
import type { AdminDependencies } from './dependencies.js';

/**
 * Closing an account and anonymising a closed one, from the person page (admins only, as every
 * /admin route; audited by the services). A refusal changes nothing: 409 for an account still open,
 * 400 for the admin's own.
 */
export function registerAccountClosureRoutes(router: Router, { db, clock }: AdminDependencies): void {
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
        throw new HttpError(error.code === 'not_closed' ? 409 : 400, 'badRequest', error.message);
      }
      // An anonymised account has a new username: its page is found under it.
      response.redirect(303, `/admin/people/${encodeURIComponent(outcome.username)}?notice=${outcome.outcome === 'changed' ? notice : 'unchanged'}`);
    });
  }
}
