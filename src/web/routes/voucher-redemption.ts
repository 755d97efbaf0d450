import { Router, type Response } from 'express';
import type { Database } from '../../db/database.js';
import type { Clock } from '../../domain/time/clock.js';
import type { PrintSystem } from '../../services/credit-transfers/print-system.js';
import { createVoucherRedemption, type RedemptionResult } from '../../services/vouchers/voucher-redemption.js';
import { formatDateTime, formatDay, formatUnits } from '../../i18n/format.js';
import type { Locale, Translate } from '../../i18n/index.js';
import { requireUser } from '../middleware/authentication.js';
import { printSystemRefusal } from '../print-system-refusal.js';
import { renderPage } from '../render.js';

export const VOUCHER_REDEMPTION_PATH = '/topup/voucher';

/** What each outcome answers: a 4xx for every refusal, nothing changed. */
const STATUS: Record<RedemptionResult['outcome'], number> = { redeemed: 200, malformed: 400, unknown: 400, refused: 409, throttled: 429 };

/**
 * A top-up code typed on the top-up page (its "Code de rechargement" card). The answer is a page of
 * its own: the units credited and the new balance, or why not, with the form to try again.
 */
export function voucherRedemptionRoutes({ db, clock, timeZone, printSystem }: { db: Database; clock: Clock; timeZone: string; printSystem: PrintSystem | null }): Router {
  const router = Router();
  const redeem = createVoucherRedemption({ db, clock, timeZone });

  function message(result: RedemptionResult, response: Response): string {
    const t = response.locals.t as Translate;
    const locale = response.locals.locale as Locale;
    switch (result.outcome) {
      case 'redeemed':
        return t('vouchers.redeem.done', { value: formatUnits(t, result.value, locale), balance: formatUnits(t, result.balance, locale) });
      case 'throttled':
        return t('vouchers.redeem.errors.throttled', { until: formatDateTime(new Date(clock.now().getTime() + result.retryAfterSeconds * 1000), locale, timeZone) });
      case 'refused':
        return t(`vouchers.redeem.errors.${result.reason}`, { day: formatDay(result.expiresOn, locale), date: result.redeemedAt ? formatDateTime(result.redeemedAt, locale, timeZone) : '' });
      default:
        return t(`vouchers.redeem.errors.${result.outcome}`);
    }
  }

  router.get(VOUCHER_REDEMPTION_PATH, requireUser, (_request, response) => response.redirect(303, '/topup'));

  router.post(VOUCHER_REDEMPTION_PATH, requireUser, async (request, response) => {
    const t = response.locals.t as Translate;
    const typed = ((request.body ?? {}) as Record<string, unknown>).code;
    const code = typeof typed === 'string' ? typed.slice(0, 64) : '';
    // As for a top-up: units the print system could never receive are not given (the code stays unused).
    const refusal = await printSystemRefusal(printSystem, request, t);
    if (refusal) return renderPage(response.status(409), 'pages/voucher-redemption', { title: t('vouchers.redeem.title'), redeemed: false, message: refusal, code });
    const result = await redeem(request.user!, typed, request.ip ?? 'unknown');
    if (result.outcome === 'throttled') response.setHeader('Retry-After', String(result.retryAfterSeconds));
    const redeemed = result.outcome === 'redeemed';
    await renderPage(response.status(STATUS[result.outcome]), 'pages/voucher-redemption', {
      title: t('vouchers.redeem.title'),
      redeemed,
      message: message(result, response),
      // A refused code stays in its field, to be corrected; a redeemed one is done with.
      code: redeemed ? '' : code,
    });
  });

  return router;
}
