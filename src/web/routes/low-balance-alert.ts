import { Router, type Request, type Response } from 'express';
import type { Database } from '../../db/database.js';
import { LowBalanceError, THRESHOLD_MAX, THRESHOLD_MIN } from '../../domain/low-balance/low-balance.js';
import type { Clock } from '../../domain/time/clock.js';
import { formatHundredths } from '../../i18n/format.js';
import type { Locale, Translate } from '../../i18n/index.js';
import { createLowBalanceAlerts } from '../../services/low-balance/low-balance-alert.js';
import { requireUser } from '../middleware/authentication.js';
import { perPersonLimit } from '../middleware/per-person-limit.js';
import { renderPage } from '../render.js';

export const LOW_BALANCE_ALERT_PATH = '/account/low-balance-alert';

/** The notices a redirect may ask the page to show, by name (never text from the URL). */
const NOTICES = ['saved', 'turnedOff', 'alreadyOff'] as const;
type Notice = (typeof NOTICES)[number];

/** Changes a person may make in a window: each is a write, and nobody needs more to pick a number. */
const ALERT_CHANGES = { limit: 20, windowMs: 15 * 60_000 };

/** What is shown back of a refused threshold: enough to correct it, never a whole body. */
const THRESHOLD_SHOWN_MAX_LENGTH = 40;

/**
 * The low-balance alert, for every signed-in person: their balance, the threshold below which spending
 * mails them once (its link goes to the top-up page), set or turned off here.
 */
export function lowBalanceAlertRoutes({ db, clock }: { db: Database; clock: Clock }): Router {
  const router = Router();
  const alerts = createLowBalanceAlerts({ db, clock });
  const limitChanges = perPersonLimit({ ...ALERT_CHANGES, clock });

  async function showPage(request: Request, response: Response, sent?: { value: string; error: string }) {
    const t = response.locals.t as Translate;
    const locale = response.locals.locale as Locale;
    const settings = await alerts.settings(request.user!.id);
    const notice = !sent && (NOTICES as readonly unknown[]).includes(request.query.notice) ? t(`lowBalance.notices.${String(request.query.notice)}`) : null;
    await renderPage(response.status(sent ? 400 : 200), 'pages/low-balance-alert', {
      title: t('lowBalance.title'),
      notice,
      settings,
      threshold: sent ?? { value: settings.threshold === null ? '' : formatHundredths(settings.threshold, locale), error: null },
      limits: { min: formatHundredths(THRESHOLD_MIN, locale), max: formatHundredths(THRESHOLD_MAX, locale) },
      path: LOW_BALANCE_ALERT_PATH,
    });
  }

  const done = (response: Response, notice: Notice) => response.redirect(303, `${LOW_BALANCE_ALERT_PATH}?notice=${notice}`);

  router.get(LOW_BALANCE_ALERT_PATH, requireUser, (request, response) => showPage(request, response));

  router.post(LOW_BALANCE_ALERT_PATH, requireUser, limitChanges, async (request, response) => {
    const t = response.locals.t as Translate;
    const locale = response.locals.locale as Locale;
    const typed = (request.body as Record<string, unknown> | undefined)?.threshold;
    try {
      await alerts.choose(request.user!.id, typed, locale);
      done(response, 'saved');
    } catch (error) {
      if (!(error instanceof LowBalanceError)) throw error;
      const limits = { min: formatHundredths(THRESHOLD_MIN, locale), max: formatHundredths(THRESHOLD_MAX, locale) };
      const value = typeof typed === 'string' ? typed.slice(0, THRESHOLD_SHOWN_MAX_LENGTH) : '';
      await showPage(request, response, { value, error: t(`lowBalance.errors.${error.code}`, limits) });
    }
  });

  router.post(`${LOW_BALANCE_ALERT_PATH}/off`, requireUser, limitChanges, async (request, response) => {
    done(response, (await alerts.turnOff(request.user!.id)) ? 'turnedOff' : 'alreadyOff');
  });

  return router;
}
