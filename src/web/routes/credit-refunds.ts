import { Router, type Request, type Response } from 'express';
import { CreditRefundError, PAYPAL_REFUND_WINDOW_DAYS } from '../../domain/credit-refunds/credit-refunds.js';
import type { Clock } from '../../domain/time/clock.js';
import type { Translate } from '../../i18n/index.js';
import type { CreditRefunds } from '../../services/credit-refunds/credit-refunds.js';
import { requireUser } from '../middleware/authentication.js';
import { perPersonLimit } from '../middleware/per-person-limit.js';
import { renderPage } from '../render.js';

export const CREDIT_REFUND_PATH = '/account/refund';

/** Requests a person may send in a window: each one locks their account and may write a request, an audit entry and a mail. */
const REQUESTS = { limit: 5, windowMs: 60 * 60_000 };

const NOTICES = ['requested', 'approved'] as const;

/** "Rembourser mon crédit": the rule, what is refundable now and how, the person's requests, and the form to ask. */
export function creditRefundRoutes({ clock, creditRefunds }: { clock: Clock; creditRefunds: CreditRefunds }): Router {
  const router = Router();
  const limitRequests = perPersonLimit({ ...REQUESTS, clock });

  async function showPage(request: Request, response: Response, error: string | null = null, status = 200) {
    const t = response.locals.t as Translate;
    const { balance, plan, open, requests } = await creditRefunds.overview(request.user!);
    const notice = status === 200 && (NOTICES as readonly unknown[]).includes(request.query.notice) ? t(`creditRefunds.page.notices.${String(request.query.notice)}`) : null;
    await renderPage(response.status(status), 'pages/credit-refund', {
      title: t('creditRefunds.page.title'),
      notice,
      error,
      balance,
      plan,
      anyTransfer: plan.parts.some((part) => part.method === 'transfer'),
      open,
      requests,
      windowDays: PAYPAL_REFUND_WINDOW_DAYS,
      path: CREDIT_REFUND_PATH,
    });
  }

  router.get(CREDIT_REFUND_PATH, requireUser, (request, response) => showPage(request, response));

  router.post(CREDIT_REFUND_PATH, requireUser, limitRequests, async (request, response) => {
    const t = response.locals.t as Translate;
    const body = (request.body ?? {}) as Record<string, unknown>;
    try {
      const { approved } = await creditRefunds.request(request.user!, { closeAccount: body.closeAccount === 'yes' });
      response.redirect(303, `${CREDIT_REFUND_PATH}?notice=${approved ? 'approved' : 'requested'}`);
    } catch (error) {
      if (!(error instanceof CreditRefundError) || (error.code !== 'nothing_refundable' && error.code !== 'already_open')) throw error;
      await showPage(request, response, t(`creditRefunds.page.errors.${error.code}`), 409);
    }
  });

  return router;
}
