import type { Request, RequestHandler } from 'express';
import { isLocale, SUPPORTED_LOCALES, type Locale, type Translate } from '../../i18n/index.js';

/** The language a visitor picked, kept in a cookie: a visitor has no stored session. */
export const LANGUAGE_COOKIE = 'recharge.lang';

export const languageCookieOptions = (secureCookies: boolean) =>
  ({ httpOnly: true, sameSite: 'lax', secure: secureCookies, path: '/', maxAge: 365 * 24 * 3_600_000 }) as const;

/** The visitor's cookie, if it names a language. */
export const chosenLanguage = (request: Request): Locale | undefined => {
  const chosen: unknown = request.cookies?.[LANGUAGE_COOKIE];
  return isLocale(chosen) ? chosen : undefined;
};

/** The person's choice (session, set from their profile at login; else the language cookie), else Accept-Language, else the default. */
export function negotiateLocale(request: Request, defaultLocale: Locale): Locale {
  const chosen = request.session?.locale ?? chosenLanguage(request);
  if (isLocale(chosen)) return chosen;
  const negotiated = request.acceptsLanguages(defaultLocale, ...SUPPORTED_LOCALES.filter((locale) => locale !== defaultLocale));
  return isLocale(negotiated) ? negotiated : defaultLocale;
}

export function resolveLocale(defaultLocale: Locale, translations: (locale: Locale) => Translate): RequestHandler {
  return (request, response, next) => {
    const locale = negotiateLocale(request, defaultLocale);
    response.locals.locale = locale;
    response.locals.t = translations(locale);
    response.setHeader('Content-Language', locale);
    next();
  };
}
