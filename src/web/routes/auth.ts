import { Router, type CookieOptions, type Response } from 'express';
import type { Locale } from '../../domain/shared/locale.js';
import { z } from 'zod';
import type { Authenticator } from '../../services/people/authentication.js';
import { DEVICE_TOKEN_DAYS } from '../../domain/people/device-token.js';
import type { Refusal } from '../../domain/people/login-throttle.js';
import type { Translate } from '../../i18n/index.js';
import { renderPage } from '../render.js';
import { safeReturnPath } from './preferences.js';
import { destroySession } from '../middleware/session.js';
import type { BeginSession } from '../sign-in/begin-session.js';
import { signInPageChoices, type SignInChoices } from '../sign-in/sign-in-choices.js';

const loginForm = z.object({
  username: z.string().trim().min(1).max(320),
  password: z.string().min(1).max(4096),
  remember: z.literal('1').optional(),
  returnTo: z.string().max(2000).optional(),
});

/** Why an attempt waits: its address, the account slowed (unfamiliar addresses), or an admin or IT account locked. */
const THROTTLED_MESSAGES: Record<Refusal, string> = { address: 'login.throttled', slowed: 'login.slowed', locked: 'login.locked' };

/** Notices the login page may show, by the `notice` query parameter (anything else is ignored). */
const NOTICES: Record<string, string> = { 'logged-out': 'login.loggedOut', 'session-expired': 'login.sessionExpired' };

/** Why the directory's answer made no account (external-sign-in.ts), as the login page says it. */
export const REFUSED_MESSAGES = { incomplete_profile: 'signIn.incompleteProfile', no_role: 'signIn.noRole', username_taken: 'signIn.usernameTaken' } as const;

export interface AuthRoutesOptions {
  authenticate: Authenticator;
  beginSession: BeginSession;
  /** The login page's provider buttons and directory hint; the logout's way out through the provider. */
  choices: SignInChoices;
  cookie: { name: string; options: CookieOptions };
  /** Keeps the browser's device token (login throttling) for DEVICE_TOKEN_DAYS, through logouts. */
  deviceCookie: { name: string; options: CookieOptions };
  /** The quotes this browser looked up (quote-access.ts): cleared at logout. */
  quoteCookie: { name: string; options: CookieOptions };
  /** A session is never kept longer than this (the absolute timeout). */
  absoluteHours: number;
}

export interface LoginPageFields {
  username?: string;
  remember?: boolean;
  notice?: string | null;
  error?: string | null;
  returnTo?: string;
}

export type ShowLoginPage = (response: Response, status: number, fields: LoginPageFields) => Promise<void>;

/** The login page with its choices (providers, directories, the form), as every sign-in route shows it. */
export function loginPageRenderer({ choices, absoluteHours }: Pick<AuthRoutesOptions, 'choices' | 'absoluteHours'>): ShowLoginPage {
  return (response, status, { username = '', remember = false, notice = null, error = null, returnTo = '' }) =>
    renderPage(response.status(status), 'pages/login', {
      title: (response.locals.t as Translate)('login.title'),
      rememberHours: absoluteHours,
      ...signInPageChoices(choices, response.locals.locale as Locale, returnTo),
      username,
      remember,
      notice,
      error,
    });
}

export function authRoutes({ authenticate, beginSession, choices, cookie, deviceCookie, quoteCookie, absoluteHours }: AuthRoutesOptions): Router {
  const router = Router();
  const showLoginPage = loginPageRenderer({ choices, absoluteHours });

  router.get('/login', async (request, response) => {
    if (request.user) return response.redirect(303, '/account');
    const t = response.locals.t as Translate;
    const noticeKey = NOTICES[String(request.query.notice)];
    await showLoginPage(response, 200, {
      notice: noticeKey ? t(noticeKey) : null,
      error: response.locals.sessionEnded ? t('login.sessionExpired') : null,
      returnTo: safeReturnPath(request.query.returnTo),
    });
  });

  router.post('/login', async (request, response) => {
    const t = response.locals.t as Translate;
    const form = loginForm.safeParse(request.body ?? {});
    const username = typeof request.body?.username === 'string' ? request.body.username.slice(0, 320) : '';
    const remember = request.body?.remember === '1';
    const returnTo = safeReturnPath(request.body?.returnTo);
    const showForm = (status: number, error: string) => showLoginPage(response, status, { username, remember, error, returnTo });
    if (!form.success) return showForm(400, t('login.missingFields'));

    const deviceToken = (request.cookies as Record<string, unknown> | undefined)?.[deviceCookie.name];
    const result = await authenticate({ ...form.data, ip: request.ip ?? 'unknown', deviceToken: typeof deviceToken === 'string' ? deviceToken : undefined });
    switch (result.outcome) {
      case 'invalid':
        return showForm(401, t('login.invalid'));
      case 'disabled':
        return showForm(403, t('login.disabled'));
      case 'refused':
        return showForm(403, t(REFUSED_MESSAGES[result.problem]));
      case 'unavailable':
        return showForm(503, t('signIn.directoryUnavailable'));
      case 'throttled':
        response.setHeader('Retry-After', String(result.retryAfterSeconds));
        return showForm(429, t(THROTTLED_MESSAGES[result.refusal], { count: Math.ceil(result.retryAfterSeconds / 60) }));
      case 'success': {
        const started = await beginSession(request, { user: result.user, method: result.method, remember: form.data.remember === '1', returnTo });
        response.cookie(deviceCookie.name, result.deviceToken, { ...deviceCookie.options, maxAge: DEVICE_TOKEN_DAYS * 86_400_000 });
        return response.redirect(303, started.location);
      }
    }
  });

  // Signed in through a provider that offers it, the person is then signed out there too (OIDC
  // RP-initiated logout, CAS logout), and comes back to the login page.
  router.post('/logout', async (request, response) => {
    const providerLogout = choices.logoutLocation(request.session.signInMethod, request.session.idToken);
    await destroySession(request);
    response.clearCookie(cookie.name, cookie.options);
    // The quotes looked up in this browser go with the session: the next person at a shared computer sees none.
    response.clearCookie(quoteCookie.name, quoteCookie.options);
    response.redirect(303, providerLogout ?? '/login?notice=logged-out');
  });

  return router;
}
