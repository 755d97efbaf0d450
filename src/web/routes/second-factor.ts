import { Router, type Request, type Response } from 'express';
import type { Translate } from '../../i18n/index.js';
import { listFactorKinds } from '../../services/second-factors/records.js';
import type { CheckResult, SecondFactors } from '../../services/second-factors/second-factors.js';
import { regenerateSession } from '../middleware/session.js';
import { SECOND_FACTOR_PATH, SECURITY_PATH } from '../middleware/second-factor.js';
import { renderPage } from '../render.js';
import type { CheckedPerson, SecondFactorCheck } from '../sign-in/second-factor-check.js';
import { safeReturnPath } from './preferences.js';
import type { Database } from '../../db/database.js';

/** Why the page is shown, by the `reason` query parameter: an admin or IT page, or a money action. */
const REASONS = ['required', 'step-up'] as const;

/** What the person typed, shown back with the error; a code is never shown back. */
interface SentCheck {
  error: string;
  status: number;
}

const text = (value: unknown) => (typeof value === 'string' ? value.slice(0, 100) : '');

/**
 * The second factor asked: as the second step of signing in (an admin or IT person with a factor), or
 * again before a money action (step-up). A code of a TOTP app, or a recovery code, here; a passkey
 * through the page's script (web/routes/passkeys.ts).
 */
export function secondFactorRoutes({ db, factors, check }: { db: Database; factors: SecondFactors; check: SecondFactorCheck }): Router {
  const router = Router();

  async function showPage(request: Request, response: Response, checked: CheckedPerson, sent?: SentCheck) {
    const t = response.locals.t as Translate;
    const kinds = await listFactorKinds(db.knex, checked.user.id);
    const reason = (REASONS as readonly unknown[]).includes(request.query.reason) ? String(request.query.reason) : null;
    await renderPage(response.status(sent?.status ?? 200), 'pages/second-factor', {
      title: t('secondFactor.check.title'),
      mode: checked.mode,
      reason,
      error: sent?.error ?? null,
      hasTotp: kinds.has('totp'),
      hasPasskey: kinds.has('passkey'),
      returnTo: safeReturnPath(request.query.returnTo ?? (request.body as Record<string, unknown> | undefined)?.returnTo),
      path: SECOND_FACTOR_PATH,
    });
  }

  /** The person this request checks a factor for; a visitor with nothing waiting goes to the login page. */
  async function personOrLogin(request: Request, response: Response): Promise<CheckedPerson | null> {
    const checked = await check.personOf(request);
    if (!checked) response.redirect(303, '/login?notice=session-expired');
    return checked;
  }

  async function answer(request: Request, response: Response, checked: CheckedPerson, result: CheckResult) {
    const t = response.locals.t as Translate;
    if (result.outcome === 'accepted') return response.redirect(303, await check.accepted(request, checked, safeReturnPath((request.body as Record<string, unknown> | undefined)?.returnTo)));
    if (result.outcome === 'throttled') {
      response.setHeader('Retry-After', String(result.retryAfterSeconds));
      return showPage(request, response, checked, { status: 429, error: t('secondFactor.check.throttled', { count: Math.ceil(result.retryAfterSeconds / 60) }) });
    }
    return showPage(request, response, checked, { status: 401, error: t('secondFactor.check.wrong') });
  }

  router.get(SECOND_FACTOR_PATH, async (request, response) => {
    const checked = await personOrLogin(request, response);
    if (!checked) return;
    // A step-up for someone with nothing to check: adding a factor is the way on.
    if (checked.mode === 'step-up' && (await factors.factorCount(checked.user.id)) === 0) return response.redirect(303, `${SECURITY_PATH}?notice=required`);
    await showPage(request, response, checked);
  });

  router.post(`${SECOND_FACTOR_PATH}/totp`, async (request, response) => {
    const checked = await personOrLogin(request, response);
    if (!checked) return;
    const code = text((request.body as Record<string, unknown> | undefined)?.code);
    await answer(request, response, checked, await factors.checkTotp(checked.user, code, check.sourceOf(request, checked)));
  });

  router.post(`${SECOND_FACTOR_PATH}/recovery`, async (request, response) => {
    const checked = await personOrLogin(request, response);
    if (!checked) return;
    const code = text((request.body as Record<string, unknown> | undefined)?.code);
    await answer(request, response, checked, await factors.checkRecoveryCode(checked.user, code, check.sourceOf(request, checked)));
  });

  /** Gives up the waiting sign-in (someone else's account at a shared computer, a lost phone): back to the login page. */
  router.post(`${SECOND_FACTOR_PATH}/cancel`, async (request, response) => {
    if (request.session.pendingSignIn) await regenerateSession(request);
    response.redirect(303, request.user ? safeReturnPath((request.body as Record<string, unknown> | undefined)?.returnTo) : '/login');
  });

  return router;
}
