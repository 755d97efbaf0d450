import type { RequestHandler } from 'express';
import { isLocale, SUPPORTED_LOCALES, type Locale, type Translate } from '../../i18n/index.js';

/** The person's choice (session, set from their profile at login), else Accept-Language, else the default. */
export function resolveLocale(defaultLocale: Locale, translations: (locale: Locale) => Translate): RequestHandler {
  const preference = [defaultLocale, ...SUPPORTED_LOCALES.filter((locale) => locale !== defaultLocale)];
  return (request, response, next) => {
    const chosen = request.session?.locale;
    const negotiated = request.acceptsLanguages(...preference);
    const locale: Locale = isLocale(chosen) ? chosen : isLocale(negotiated) ? negotiated : defaultLocale;
    response.locals.locale = locale;
    response.locals.t = translations(locale);
    response.setHeader('Content-Language', locale);
    next();
  };
}
