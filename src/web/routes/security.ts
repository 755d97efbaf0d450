import { Router, type Request, type Response } from 'express';
import QRCode from 'qrcode';
import type { Translate } from '../../i18n/index.js';
import type { EnrolResult, SecondFactors } from '../../services/second-factors/second-factors.js';
import type { Clock } from '../../domain/time/clock.js';
import { FACTOR_NAME_MAX_LENGTH } from '../../domain/second-factors/policy.js';
import { forbidden, notFound } from '../http-error.js';
import { requireUser } from '../middleware/authentication.js';
import { perPersonLimit } from '../middleware/per-person-limit.js';
import { SECURITY_PATH } from '../middleware/second-factor.js';
import { renderPage } from '../render.js';

/** The notices a redirect may ask the page to show, by name (never text from the URL). */
const NOTICES = ['required', 'removed', 'alreadyRemoved', 'lastRequired'] as const;
type Notice = (typeof NOTICES)[number];

/** A TOTP secret waits this long for its confirming code; then a new one is drawn. */
const TOTP_ENROLMENT_MS = 10 * 60_000;

/** Enrolments and removals a person may make in a window: each is a write and an audit entry. */
const FACTOR_CHANGES = { limit: 20, windowMs: 15 * 60_000 };

const FACTOR_ID = /^[1-9]\d{0,9}$/;
const text = (value: unknown, maxLength: number) => (typeof value === 'string' ? value.slice(0, maxLength) : '');

export interface SecurityRoutesOptions {
  factors: SecondFactors;
  clock: Clock;
  /** SECOND_FACTOR_REQUIRED, for the page to say so. */
  required: boolean;
}

/**
 * "Sécurité du compte", for admin and IT: their second factors (passkeys, TOTP apps), each named and
 * removable, and their recovery codes. A first factor brings ten recovery codes, shown once.
 */
export function securityRoutes({ factors, clock, required }: SecurityRoutesOptions): Router {
  const router = Router();
  const limitChanges = perPersonLimit({ ...FACTOR_CHANGES, clock });
  const mayEnrol = (request: Request) => {
    if (!factors.mayEnrol(request.user!)) throw forbidden();
  };

  async function showPage(request: Request, response: Response) {
    const t = response.locals.t as Translate;
    const { factors: listed, recoveryCodesLeft } = await factors.overview(request.user!);
    const notice = (NOTICES as readonly unknown[]).includes(request.query.notice) ? String(request.query.notice) : null;
    await renderPage(response, 'pages/security', {
      title: t('secondFactor.security.title'),
      notice,
      required,
      factors: listed,
      recoveryCodesLeft,
      nameMaxLength: FACTOR_NAME_MAX_LENGTH,
      path: SECURITY_PATH,
    });
  }

  /** The QR code of the secret waiting in the session (a new one when none waits), with the secret to type instead. */
  async function showTotpPage(request: Request, response: Response, sent?: { name: string; error: string; field: 'name' | 'code'; status: number }) {
    const t = response.locals.t as Translate;
    const now = clock.now().getTime();
    const waiting = request.session.totpEnrolment;
    const secret = waiting && now - waiting.startedAt < TOTP_ENROLMENT_MS ? factors.reopenTotp(request.user!, waiting.sealedSecret) : factors.beginTotp(request.user!);
    if (secret.sealedSecret !== waiting?.sealedSecret) request.session.totpEnrolment = { sealedSecret: secret.sealedSecret, startedAt: now };
    // Drawn here, as SVG in the page: the secret never leaves for a QR service, and the CSP allows no other image source.
    const qrSvg = await QRCode.toString(secret.uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    await renderPage(response.status(sent?.status ?? 200), 'pages/totp-enrolment', {
      title: t('secondFactor.totp.title'),
      qrSvg,
      secretGroups: secret.secret.match(/.{1,4}/g)?.join(' ') ?? secret.secret,
      name: sent?.name ?? '',
      error: sent?.error ?? null,
      errorField: sent?.field ?? null,
      nameMaxLength: FACTOR_NAME_MAX_LENGTH,
      path: `${SECURITY_PATH}/totp`,
    });
  }

  /** Shows the recovery codes once (this answer is never stored by the browser: Cache-Control no-store). */
  async function showRecoveryCodes(response: Response, codes: string[], first: boolean) {
    const t = response.locals.t as Translate;
    await renderPage(response, 'pages/recovery-codes', { title: t('secondFactor.recovery.title'), codes, first, path: SECURITY_PATH });
  }

  /** After an enrolment: the first factor's recovery codes, or the list. Adding a factor checks it, so the session counts as checked. */
  async function enrolled(request: Request, response: Response, result: Extract<EnrolResult, { outcome: 'enrolled' }>) {
    request.session.secondFactorAt = clock.now().getTime();
    if (result.recoveryCodes) return showRecoveryCodes(response, result.recoveryCodes, true);
    response.redirect(303, SECURITY_PATH);
  }

  const done = (response: Response, notice: Notice) => response.redirect(303, `${SECURITY_PATH}?notice=${notice}`);

  router.get(SECURITY_PATH, requireUser, async (request, response) => {
    mayEnrol(request);
    await showPage(request, response);
  });

  router.get(`${SECURITY_PATH}/totp`, requireUser, async (request, response) => {
    mayEnrol(request);
    await showTotpPage(request, response);
  });

  router.post(`${SECURITY_PATH}/totp`, requireUser, limitChanges, async (request, response) => {
    mayEnrol(request);
    const t = response.locals.t as Translate;
    const body = (request.body ?? {}) as Record<string, unknown>;
    const waiting = request.session.totpEnrolment;
    const name = text(body.name, FACTOR_NAME_MAX_LENGTH * 2);
    if (!waiting || clock.now().getTime() - waiting.startedAt >= TOTP_ENROLMENT_MS) {
      delete request.session.totpEnrolment;
      return showTotpPage(request, response, { name, status: 400, field: 'code', error: t('secondFactor.totp.errors.expired') });
    }
    const result = await factors.confirmTotp(request.user!, { sealedSecret: waiting.sealedSecret, name: body.name, code: text(body.code, 20) });
    if (result.outcome !== 'enrolled') {
      const field = result.outcome === 'wrong_code' ? 'code' : 'name';
      return showTotpPage(request, response, { name, status: 400, field, error: t(`secondFactor.totp.errors.${result.outcome}`, { max: FACTOR_NAME_MAX_LENGTH }) });
    }
    delete request.session.totpEnrolment;
    await enrolled(request, response, result);
  });

  router.post(`${SECURITY_PATH}/factors/:id/remove`, requireUser, limitChanges, async (request, response) => {
    mayEnrol(request);
    const id = String(request.params.id);
    if (!FACTOR_ID.test(id)) throw notFound();
    const outcome = await factors.removeFactor(request.user!, Number(id));
    done(response, outcome === 'removed' ? 'removed' : outcome === 'last_required' ? 'lastRequired' : 'alreadyRemoved');
  });

  router.post(`${SECURITY_PATH}/recovery-codes`, requireUser, limitChanges, async (request, response) => {
    mayEnrol(request);
    // Codes without a factor would be a way in on their own.
    if ((await factors.factorCount(request.user!.id)) === 0) throw forbidden();
    await showRecoveryCodes(response, await factors.issueRecoveryCodes(request.user!), false);
  });

  return router;
}
