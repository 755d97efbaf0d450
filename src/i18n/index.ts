import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import i18next, { type TFunction } from 'i18next';

export const SUPPORTED_LOCALES = ['fr', 'en'] as const;
export type Locale = (typeof SUPPORTED_LOCALES)[number];

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (SUPPORTED_LOCALES as readonly string[]).includes(value);
}

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
