import type { Request, Response, Router } from 'express';
import type { User } from '../../../domain/people/users.js';
import type { Translate } from '../../../i18n/index.js';
import { resetFactorsOf } from '../../../services/second-factors/factor-reset.js';
import type { SecondFactors } from '../../../services/second-factors/second-factors.js';
import { notFound } from '../../http-error.js';
import type { AdminDependencies } from './dependencies.js';

/** What the person page's "Second factor" card shows. */
export type SecondFactorCard = Awaited<ReturnType<SecondFactors['overview']>> & { own: boolean };

/**
 * The card of an admin or IT person; null for anyone else, unless they kept factors from when they
 * were one (a role changed back would bring them back into use, so an admin sees and may clear them).
 * `own`: the admin's own account, whose factors are managed at /account/security instead.
 */
export async function secondFactorCard(factors: SecondFactors, person: Pick<User, 'id' | 'username' | 'role'>, viewer: Pick<User, 'id'>): Promise<SecondFactorCard | null> {
  const overview = await factors.overview(person);
  if (!factors.mayEnrol(person) && overview.factors.length === 0 && overview.recoveryCodesLeft === 0) return null;
  return { ...overview, own: person.id === viewer.id };
}

/**
 * Resetting another person's second factors from the person page (admins only, as every /admin
 * route; the step-up guard asks for the admin's own factor first). The admin's own are refused with
 * 400 (`showRefusal` shows the person page with the message in the card).
 */
export function registerSecondFactorResetRoutes(
  router: Router,
  { db, secondFactors }: AdminDependencies,
  showRefusal: (request: Request, response: Response, problem: string, status: number) => Promise<void>,
): void {
  router.post('/admin/people/:username/second-factors/reset', async (request, response) => {
    const result = await resetFactorsOf({ db, factors: secondFactors }, request.user!, String(request.params.username));
    if (result.outcome === 'user_not_found') throw notFound();
    if (result.outcome === 'own_factors') return showRefusal(request, response, (response.locals.t as Translate)('admin.people.secondFactors.ownRefused'), 400);
    response.redirect(303, `/admin/people/${encodeURIComponent(result.username)}?notice=${result.outcome === 'reset' ? 'secondFactorsReset' : 'unchanged'}`);
  });
}
