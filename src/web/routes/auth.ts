import { Router, type CookieOptions } from 'express';
import { z } from 'zod';
import type { Clock } from '../../domain/time/clock.js';
import type { Authenticator } from '../../services/people/authentication.js';
import { DEVICE_TOKEN_DAYS } from '../../domain/people/device-token.js';
import type { Refusal } from '../../domain/people/login-throttle.js';
import type { Translate } from '../../i18n/index.js';
import { renderPage } from '../render.js';
import { chosenLanguage } from '../middleware/locale.js';
import { destroySession, regenerateSession } from '../middleware/session.js';

const loginForm = z.object({
  username: z.string().trim().min(1).max(320),
  password: z.string().min(1).max(4096),
  remember: z.literal('1').optional(),
});

/** Why an attempt waits: its address, the account slowed (unfamiliar addresses), or an admin or IT account locked. */
const THROTTLED_MESSAGES: Record<Refusal, string> = { address: 'login.throttled', slowed: 'login.slowed', locked: 'login.locked' };

/** Notices the login page may show, by the `notice` query parameter (anything else is ignored). */
const NOTICES: Record<string, string> = { 'logged-out': 'login.loggedOut', 'session-expired': 'login.sessionExpired' };

export interface AuthRoutesOptions {
  authenticate: Authenticator;
  clock: Clock;
  cookie: { name: string; options: CookieOptions };
  /** Keeps the browser's device token (login throttling) for DEVICE_TOKEN_DAYS, through logouts. */
  deviceCookie: { name: string; options: CookieOptions };
  /** A session is never kept longer than this (the absolute timeout). */
  absoluteHours: number;
}

export function authRoutes({ authenticate, clock, cookie, deviceCookie, absoluteHours }: AuthRoutesOptions): Router {
  const router = Router();
  const loginPage = (t: Translate, fields: { username: string; remember: boolean; notice: string | null; error: string | null }) => ({
    title: t('login.title'),
    rememberHours: absoluteHours,
    ...fields,
  });

  router.get('/login', async (request, response) => {
    if (request.user) return response.redirect(303, '/account');
    const t = response.locals.t as Translate;
    const noticeKey = NOTICES[String(request.query.notice)];
    await renderPage(
      response,
      'pages/login',
      loginPage(t, { username: '', remember: false, notice: noticeKey ? t(noticeKey) : null, error: response.locals.sessionEnded ? t('login.sessionExpired') : null }),
    );
  });

  router.post('/login', async (request, response) => {
    const t = response.locals.t as Translate;
    const form = loginForm.safeParse(request.body ?? {});
    const username = typeof request.body?.username === 'string' ? request.body.username.slice(0, 320) : '';
    const remember = request.body?.remember === '1';
    const showForm = (status: number, error: string) => renderPage(response.status(status), 'pages/login', loginPage(t, { username, remember, notice: null, error }));
    if (!form.success) return showForm(400, t('login.missingFields'));

    const deviceToken = (request.cookies as Record<string, unknown> | undefined)?.[deviceCookie.name];
    const result = await authenticate({ ...form.data, ip: request.ip ?? 'unknown', deviceToken: typeof deviceToken === 'string' ? deviceToken : undefined });
    switch (result.outcome) {
      case 'invalid':
        return showForm(401, t('login.invalid'));
      case 'disabled':
        return showForm(403, t('login.disabled'));
      case 'throttled':
        response.setHeader('Retry-After', String(result.retryAfterSeconds));
        return showForm(429, t(THROTTLED_MESSAGES[result.refusal], { count: Math.ceil(result.retryAfterSeconds / 60) }));
      case 'success': {
        // A new session id at login: a session id planted before login is worthless afterwards.
        const chosenLocale = chosenLanguage(request);
        await regenerateSession(request);
        const now = clock.now().getTime();
        request.session.userId = result.user.id;
        request.session.sessionVersion = result.user.sessionVersion;
        request.session.authenticatedAt = now;
        request.session.lastSeenAt = now;
        // The cookie ends with the browser (a shared computer), unless the person asked to stay signed in.
        if (form.data.remember) request.session.cookie.maxAge = absoluteHours * 3_600_000;
        const locale = result.user.locale ?? chosenLocale;
        if (locale) request.session.locale = locale;
        response.cookie(deviceCookie.name, result.deviceToken, { ...deviceCookie.options, maxAge: DEVICE_TOKEN_DAYS * 86_400_000 });
        return response.redirect(303, '/account');
      }
    }
  });

  router.post('/logout', async (request, response) => {
    await destroySession(request);
    response.clearCookie(cookie.name, cookie.options);
    response.redirect(303, '/login?notice=logged-out');
  });

  return router;
}
