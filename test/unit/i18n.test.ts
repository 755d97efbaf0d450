import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../src/config.js';
import { createTranslations, loadCatalog, SUPPORTED_LOCALES, type Catalog } from '../../src/i18n/index.js';

function keysOf(catalog: Catalog, prefix = ''): string[] {
  return Object.entries(catalog).flatMap(([key, value]) =>
    typeof value === 'object' && value !== null ? keysOf(value as Catalog, `${prefix}${key}.`) : [`${prefix}${key}`],
  );
}

function filesUnder(dir: string, extensions: string[]): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return filesUnder(file, extensions);
    return extensions.some((extension) => name.endsWith(extension)) ? [file] : [];
  });
}

/** Plural keys (`x_one`, `x_other`) are looked up as `x`. */
const baseKey = (key: string) => key.replace(/_(one|other)$/, '');

describe('translations', () => {
  const catalogs = Object.fromEntries(SUPPORTED_LOCALES.map((locale) => [locale, keysOf(loadCatalog(locale))]));

  it('has exactly the same keys in French and in English', () => {
    const [first, ...others] = SUPPORTED_LOCALES;
    for (const locale of others) {
      expect(catalogs[locale], `${locale} vs ${first}`).to.have.members(catalogs[first] as string[]);
    }
  });

  it('has no empty message', () => {
    for (const locale of SUPPORTED_LOCALES) {
      const catalog = loadCatalog(locale);
      for (const key of keysOf(catalog)) {
        const value = key.split('.').reduce<unknown>((node, part) => (node as Catalog)[part], catalog);
        expect(value, `${locale}:${key}`).to.be.a('string').and.not.equal('');
      }
    }
  });

  it('defines every literal key the views and the code ask for', () => {
    const known = new Set((catalogs.fr as string[]).map(baseKey));
    const sources = [...filesUnder(path.join(projectRoot, 'views'), ['.ejs']), ...filesUnder(path.join(projectRoot, 'src'), ['.ts'])];
    const used = sources.flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/\bt\(\s*'([a-zA-Z]+(?:\.[a-zA-Z_]+)+)'/g)].map((match) => match[1] as string));
    expect(used.length).to.be.greaterThan(20);
    expect(used.filter((key) => !known.has(key))).to.deep.equal([]);
  });

  it('says a count of one in the singular, where a setting can make it one', () => {
    const translate = createTranslations();
    expect(translate('fr')('topup.errors.tooManyOpenOrders', { count: 1 })).to.match(/^Vous avez déjà une commande en attente de paiement\. Payez-la/);
    expect(translate('en')('topup.errors.tooManyOpenOrders', { count: 1 })).to.match(/^You already have an order waiting for payment\. Pay it/);
    expect(translate('en')('topup.errors.tooManyOpenOrders', { count: 5 })).to.match(/^You already have 5 orders waiting/);
  });
});
