import { expect } from 'chai';
import { createI18next, createTranslations, loadCatalog, SUPPORTED_LOCALES, type Catalog } from '../../src/i18n/index.js';

/** Every message's key, every section's key, and the plural keys as they are asked for (`x` for `x_one`). */
function keysAskedFor(catalog: Catalog, prefix = ''): string[] {
  return Object.entries(catalog).flatMap(([key, value]) => {
    const full = `${prefix}${key}`;
    if (typeof value === 'object' && value !== null) return [full, ...keysAskedFor(value as Catalog, `${full}.`)];
    return [full, full.replace(/_(one|other)$/, '')];
  });
}

/**
 * The portal's translators skip i18next's getFixedT and keep messages asked for without options
 * (src/i18n/index.ts): they must answer exactly what getFixedT answers, the first time and after.
 */
describe('translators', () => {
  const reference = createI18next();
  const translations = createTranslations();

  for (const locale of SUPPORTED_LOCALES) {
    it(`answers every key of the ${locale} catalog as i18next does, asked for once and again`, () => {
      const t = translations(locale);
      const fixed = reference.getFixedT(locale);
      for (const key of [...keysAskedFor(loadCatalog(locale)), 'no.such.key', 'account.no-such-message']) {
        const expected = fixed(key);
        expect(t(key), `${locale}:${key}`).to.equal(expected);
        expect(t(key), `${locale}:${key} again`).to.equal(expected);
      }
    });

    it(`passes options on in ${locale}: interpolation, plurals, sections as objects, default values`, () => {
      const t = translations(locale);
      const fixed = reference.getFixedT(locale);
      const calls: Array<[string, ...unknown[]]> = [
        ['account.pages', { count: 1 }],
        ['account.pages', { count: 12 }],
        ['units.other', { value: '1,50' }],
        ['units', { returnObjects: true }],
        ['no.such.key', { defaultValue: 'fallback' }],
        ['no.such.key', 'fallback'],
        ['units.one', { lng: SUPPORTED_LOCALES.find((other) => other !== locale), value: '1,00' }],
      ];
      for (const [key, ...options] of calls) {
        const call = (translate: unknown) => (translate as (...args: unknown[]) => unknown)(key, ...options);
        expect(call(t), `${locale}:${key} ${JSON.stringify(options)}`).to.deep.equal(call(fixed));
      }
    });
  }
});
