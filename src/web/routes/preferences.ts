import { Router } from 'express';
import type { Database } from '../../db/database.js';
import { updateUser } from '../../services/people/records.js';
import type { Clock } from '../../domain/time/clock.js';
import { isLocale } from '../../i18n/index.js';
import { HttpError } from '../http-error.js';
import { LANGUAGE_COOKIE, languageCookieOptions } from '../middleware/locale.js';

/** Only a path on this site: never `//host` or a full URL (no open redirect). */
export function safeReturnPath(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])[^\s]*$/.test(value) && value.length <= 2000 ? value : '/';
}

export function preferenceRoutes({ db, clock, secureCookies }: { db: Database; clock: Clock; secureCookies: boolean }): Router {
  const router = Router();

  router.post('/language', async (request, response) => {
    const locale: unknown = request.body?.locale;
    if (!isLocale(locale)) throw new HttpError(400, 'badRequest', 'unsupported language');
    response.cookie(LANGUAGE_COOKIE, locale, languageCookieOptions(secureCookies));
    if (request.user) {
      request.session.locale = locale;
      await updateUser(db.knex, request.user.username, { locale }, clock.now());
    }
    response.redirect(303, safeReturnPath(request.body?.returnTo));
  });

  return router;
}
