import { readFileSync } from 'node:fs';
import path from 'node:path';
import i18next, { type TFunction } from 'i18next';

export const SUPPORTED_LOCALES = ['fr', 'en'] as const;
export type Locale = (typeof SUPPORTED_LOCALES)[number];

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (SUPPORTED_LOCALES as readonly string[]).includes(value);
}

export type Catalog = Record<string, unknown>;

export function loadCatalog(locale: Locale): Catalog {
  return JSON.parse(readFileSync(path.join(import.meta.dirname, 'locales', `${locale}.json`), 'utf8')) as Catalog;
}

export type Translate = TFunction;

/** One i18next instance for the process; `translatorFor(locale)` is cheap and called per request. */
export function createTranslations(): (locale: Locale) => Translate {
  const instance = i18next.createInstance();
  void instance.init({
    initAsync: false,
    resources: Object.fromEntries(SUPPORTED_LOCALES.map((locale) => [locale, { translation: loadCatalog(locale) }])),
    supportedLngs: [...SUPPORTED_LOCALES],
    fallbackLng: false,
    // EJS escapes on output (<%= %>); escaping here too would double-escape.
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  const translators = new Map(SUPPORTED_LOCALES.map((locale) => [locale, instance.getFixedT(locale)]));
  return (locale) => translators.get(locale) as Translate;
}
