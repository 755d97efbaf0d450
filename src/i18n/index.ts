import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import i18next, { type i18n, type TFunction } from 'i18next';
import { isLocale, SUPPORTED_LOCALES, type Locale } from '../domain/shared/locale.js';
import { ASK_I18NEXT, compileCatalog, type CompiledEntry } from './compiled-messages.js';

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
  const catalogs = new Map(SUPPORTED_LOCALES.map((locale) => [locale, compiledCatalog(instance, locale)]));
  const translators = new Map(SUPPORTED_LOCALES.map((locale) => [locale, translatorFor(instance, locale, catalogs)]));
  return (locale) => translators.get(locale) as Translate;
}

/** A language's catalog as i18next holds it, compiled once (src/i18n/compiled-messages.ts). */
function compiledCatalog(instance: i18n, locale: Locale): CompiledCatalog {
  return {
    messages: compileCatalog(instance.getResourceBundle(locale, 'translation') as Catalog),
    plurals: new Intl.PluralRules(locale, { type: 'cardinal' }),
    pluralForms: [],
  };
}

interface CompiledCatalog {
  messages: ReadonlyMap<string, CompiledEntry>;
  plurals: Intl.PluralRules;
  pluralForms: Intl.LDMLPluralRule[];
}

/** Options that change what i18next does beyond finding a message and writing values into it. */
const ONLY_I18NEXT_OPTIONS = new Set([
  'returnObjects', 'returnDetails', 'joinArrays', 'ordinal', 'lngs', 'fallbackLng', 'ns', 'keyPrefix', 'keySeparator', 'nsSeparator',
  'ignoreJSONStructure', 'replace', 'interpolation', 'skipInterpolation', 'missingInterpolationHandler', 'nest', 'postProcess',
  'applyPostProcessor', 'appendNamespaceToCIMode', 'missingKeyNoValueFallbackToKey',
]);

const NO_VALUES = Object.freeze({});

/** i18next reads a copy of the options: their own enumerable properties, which `for…in` lists of a plain object. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/** A count's plural form, remembered for the small whole numbers pages count with (Intl's select is the slow part of a lookup). */
function pluralFormOf(catalog: CompiledCatalog, count: unknown): string {
  if (typeof count === 'number' && Number.isInteger(count) && count >= 0 && count < REMEMBERED_COUNTS) {
    return (catalog.pluralForms[count] ??= catalog.plurals.select(count));
  }
  return catalog.plurals.select(count as number);
}

const REMEMBERED_COUNTS = 1000;

/** `base`'s message for a count (its `_zero` for 0, then its plural form) or without, as i18next looks them up. */
function find(catalog: CompiledCatalog, base: string, count: unknown): CompiledEntry | undefined {
  if (count === undefined || typeof count === 'string') return catalog.messages.get(base);
  return (
    (count === 0 ? catalog.messages.get(`${base}_zero`) : undefined) ??
    catalog.messages.get(`${base}_${pluralFormOf(catalog, count)}`) ??
    catalog.messages.get(base)
  );
}

/**
 * The message i18next would pick for `key`, or ASK_I18NEXT. Its order: with a context,
 * `key_context` (its `_zero` for a count of 0, then its plural form, then itself) before `key` (the
 * same three); a count that is not a string selects the plural form by Intl.PluralRules. The first
 * key the catalog holds decides, as in i18next: a section or an uncompiled message there is
 * i18next's to answer, and so is a key the catalog does not hold (default value, the key itself).
 */
function pick(catalog: CompiledCatalog, key: string, count: unknown, context: unknown): CompiledEntry {
  const withContext = (typeof context === 'string' && context !== '') || typeof context === 'number';
  return (withContext ? find(catalog, `${key}_${context}`, count) : undefined) ?? find(catalog, key, count) ?? ASK_I18NEXT;
}

/**
 * `t` in one language from the compiled catalogs: a message costs a map lookup, plus writing its
 * values (docs/benchmarks.md). What they do not answer goes to i18next, which loaded the catalogs:
 * keys it does not hold, sections, uncompiled messages, options only i18next knows, a language that
 * is not supported, and the rarer call forms (a default value as second argument) through getFixedT.
 * test/unit/translators.test.ts checks every key of both catalogs against i18next.
 */
function translatorFor(instance: i18n, locale: Locale, catalogs: ReadonlyMap<unknown, CompiledCatalog>): Translate {
  const fixed = instance.getFixedT(locale);
  const own = catalogs.get(locale) as CompiledCatalog;
  const compiled = (key: string, options: Record<string, unknown>): string | undefined => {
    let count: unknown, context: unknown, lng: unknown;
    for (const name in options) {
      if (ONLY_I18NEXT_OPTIONS.has(name)) return undefined;
      if (name === 'count') count = options.count;
      else if (name === 'context') context = options.context;
      else if (name === 'lng') lng = options.lng;
    }
    const catalog = lng === undefined || lng === null ? own : catalogs.get(lng);
    const message = catalog ? pick(catalog, key, count, context) : ASK_I18NEXT;
    if (message === ASK_I18NEXT) return undefined;
    return typeof message === 'string' ? message : message(options);
  };
  const translate = (key: unknown, options?: unknown, ...rest: unknown[]): unknown => {
    if (typeof key === 'string' && rest.length === 0) {
      if (options === undefined) {
        const message = own.messages.get(key);
        if (typeof message === 'string') return message;
        return typeof message === 'function' ? message(NO_VALUES) : instance.t(key, { lng: locale });
      }
      const text = isPlainObject(options) ? compiled(key, options) : undefined;
      if (text !== undefined) return text;
    }
    if (typeof options === 'object' && options !== null && rest.length === 0 && (typeof key === 'string' || Array.isArray(key))) {
      return instance.t(key as string | string[], { ...options, lng: (options as { lng?: string }).lng ?? locale });
    }
    return (fixed as unknown as (...args: unknown[]) => unknown)(key, options, ...rest);
  };
  return translate as unknown as Translate;
}
