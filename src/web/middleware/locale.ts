import type { Request, RequestHandler } from 'express';
import { isLocale, SUPPORTED_LOCALES, type Locale, type Translate } from '../../i18n/index.js';

/** The person's choice (session, set from their profile at login), else Accept-Language, else the default. */
export function negotiateLocale(request: Request, defaultLocale: Locale): Locale {
  const chosen = request.session?.locale;
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
