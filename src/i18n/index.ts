import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import i18next, { type i18n, type TFunction } from 'i18next';
import { isLocale, SUPPORTED_LOCALES, type Locale } from '../domain/shared/locale.js';

export { isLocale, SUPPORTED_LOCALES, type Locale };

export type Catalog = Record<string, unknown>;

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Catalog;

/** Puts `addition` into `into`; the same message defined twice is a mistake, not an override. */
function mergeCatalog(into: Catalog, addition: Catalog, where: string): Catalog {
  for (const [key, value] of Object.entries(addition)) {
    const existing = into[key];
    const bothSections = typeof existing === 'object' && existing !== null && typeof value === 'object' && value !== null;
    if (existing !== undefined && !bothSections) throw new Error(`translation ${where}${key} is defined twice`);
    into[key] = bothSections ? mergeCatalog(existing as Catalog, value as Catalog, `${where}${key}.`) : value;
  }
  return into;
}

/** `locales/<locale>.json`, plus one file per area of the portal in `locales/<locale>/` (e.g. admin pages). */
export function loadCatalog(locale: Locale): Catalog {
  const directory = path.join(import.meta.dirname, 'locales');
  const catalog = readJson(path.join(directory, `${locale}.json`));
  const areas = path.join(directory, locale);
  const files = existsSync(areas) ? readdirSync(areas).filter((name) => name.endsWith('.json')).sort() : [];
  return files.reduce((merged, name) => mergeCatalog(merged, readJson(path.join(areas, name)), ''), catalog);
}

export type Translate = TFunction;

/** An i18next instance over the catalogs of every supported language. */
export function createI18next(): i18n {
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
  return instance;
}

/** One i18next instance for the process; `translations(locale)` is cheap and called per request. */
export function createTranslations(): (locale: Locale) => Translate {
  const instance = createI18next();
  const translators = new Map(SUPPORTED_LOCALES.map((locale) => [locale, translatorFor(instance, locale)]));
  return (locale) => translators.get(locale) as Translate;
}

/**
 * `t` in one language, without i18next's getFixedT on the way: each of its calls copies all of the
 * instance's options, tens of microseconds, and a page asks for a hundred messages or more
 * (docs/benchmarks.md). A message asked for without options is the same every time once the catalogs
 * are loaded, so it is kept after its first lookup; only keys the catalogs hold are kept, so the cache
 * is as small as they are whatever keys are asked for. With options, the instance's own t is given
 * the language; the rarer forms (a default value as second argument) still go through getFixedT.
 */
function translatorFor(instance: i18n, locale: Locale): Translate {
  const fixed = instance.getFixedT(locale);
  const plain = new Map<string, string>();
  const translate = (key: unknown, options?: unknown, ...rest: unknown[]): unknown => {
    if (options === undefined && rest.length === 0 && typeof key === 'string') {
      const kept = plain.get(key);
      if (kept !== undefined) return kept;
      const text = instance.t(key, { lng: locale });
      if (instance.exists(key, { lng: locale })) plain.set(key, text);
      return text;
    }
    if (typeof options === 'object' && options !== null && rest.length === 0 && (typeof key === 'string' || Array.isArray(key))) {
      return instance.t(key as string | string[], { ...options, lng: (options as { lng?: string }).lng ?? locale });
    }
    return (fixed as unknown as (...args: unknown[]) => unknown)(key, options, ...rest);
  };
  return translate as unknown as Translate;
}
