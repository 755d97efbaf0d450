import { inspect, isDeepStrictEqual } from 'node:util';
import { expect } from 'chai';
import fc from 'fast-check';
import { createI18next, createTranslations, loadCatalog, SUPPORTED_LOCALES, type Catalog } from '../../src/i18n/index.js';

type Call = (key: unknown, ...options: unknown[]) => unknown;

/** Every key a catalog holds, sections too, with its message (undefined for a section). */
function keysOf(catalog: Catalog, prefix = ''): Array<[string, string | undefined]> {
  return Object.entries(catalog).flatMap(([key, value]): Array<[string, string | undefined]> => {
    const full = `${prefix}${key}`;
    if (typeof value === 'object' && value !== null) return [[full, undefined], ...keysOf(value as Catalog, `${full}.`)];
    return [[full, value as string]];
  });
}

const placeholdersOf = (message: string | undefined) => [...(message ?? '').matchAll(/\{\{(.+?)\}\}/g)].map((match) => match[1] as string);

/** A key as pages ask for it, the contexts its messages are written for, and the values they use. */
interface Asked {
  key: string;
  contexts: string[];
  names: string[];
  /** It has plural forms (`key_one`, `key_context_other`…). */
  plural: boolean;
}

/**
 * Every key, and each way of reading an `_` in its last segment as i18next does: `pages_one` is
 * `pages` with a count, `creditsGoTo_papercut` is `creditsGoTo` with a context, and
 * `errors.amount_zero` is `errors.amount` with a count of 0.
 */
function askedFor(messages: Array<[string, string | undefined]>): Asked[] {
  const asked = new Map<string, Asked>();
  const entry = (key: string) => asked.get(key) ?? asked.set(key, { key, contexts: [], names: [], plural: false }).get(key)!;
  for (const [key, message] of messages) {
    const names = placeholdersOf(message);
    entry(key).names.push(...names);
    const last = key.lastIndexOf('.') + 1;
    for (let at = key.indexOf('_', last); at !== -1; at = key.indexOf('_', at + 1)) {
      const base = entry(key.slice(0, at));
      const suffix = key.slice(at + 1);
      base.names.push(...names);
      base.plural ||= /(^|_)(zero|one|other)$/.test(suffix);
      const context = suffix.replace(/_?(zero|one|other)$/, '');
      if (context !== '') base.contexts.push(context);
    }
  }
  return [...asked.values()].map((base) => ({ ...base, contexts: [...new Set(base.contexts)], names: [...new Set(base.names)] }));
}

/** What a call answers, or the error it throws: both translators must do the same. */
function outcome(translate: Call, key: unknown, options: unknown[]): unknown {
  try {
    return { answer: translate(key, ...options) };
  } catch (error) {
    return { error: String(error) };
  }
}

const PLURAL_COUNTS = [0, 1, 2, 5, 21];
/** Values as pages pass them, with HTML's special characters (EJS escapes, i18next must not), holding placeholders (left as they are), null, undefined, missing. */
const valueSets = (names: string[]): Array<Record<string, unknown>> => [
  Object.fromEntries(names.map((name) => [name, `<b class="x">${name} & 'co'</b>`])),
  Object.fromEntries(names.map((name, index) => [name, index * 7 + 0.5])),
  Object.fromEntries(names.map((name) => [name, `{{${names[0]}}} $t(app.name) $&`])),
  Object.fromEntries(names.map((name, index) => [name, index % 2 ? null : undefined])),
  Object.fromEntries(names.slice(1).map((name) => [name, name])),
];

/**
 * The portal's translators answer from catalogs compiled at start (src/i18n/compiled-messages.ts),
 * asking i18next only for what is not compiled: their answers must be exactly i18next's own.
 */
describe('translators', () => {
  const reference = createI18next();
  const translations = createTranslations();

  for (const locale of SUPPORTED_LOCALES) {
    const t = translations(locale) as unknown as Call;
    const fixed = reference.getFixedT(locale) as unknown as Call;
    const messages = keysOf(loadCatalog(locale));
    const asked = askedFor(messages);
    const same = (key: unknown, ...options: unknown[]) => {
      const [answer, expected] = [outcome(t, key, options), outcome(fixed, key, options)];
      // The message is written only for a difference: thousands of calls agree.
      if (!isDeepStrictEqual(answer, expected)) expect(answer, `${locale}:${String(key)} ${inspect(options)}`).to.deep.equal(expected);
    };

    it(`answers every key of the ${locale} catalog as i18next does, without options, once and again`, () => {
      for (const key of [...messages.map(([key]) => key), ...asked.map(({ key }) => key), 'no.such.key', 'account.no-such-message']) {
        same(key);
        same(key);
      }
    });

    it(`answers every key of the ${locale} catalog with counts, contexts and values (missing, HTML, null) as i18next does`, () => {
      let calls = 0;
      for (const { key, contexts, names, plural } of asked) {
        // A count where there are no plural forms changes nothing, but is still written where the message asks for it.
        const counts = plural ? PLURAL_COUNTS : [3];
        for (const values of [{}, ...valueSets(names)]) {
          const variants: Array<Record<string, unknown>> = [
            {},
            ...counts.map((count) => ({ count })),
            ...contexts.flatMap((context) => [{ context }, ...counts.map((count) => ({ context, count }))]),
          ];
          for (const variant of variants) {
            same(key, { ...values, ...variant });
            calls += 1;
          }
        }
      }
      expect(calls).to.be.greaterThan(messages.length * 6);
      expect(asked.filter(({ plural }) => plural)).to.have.length.greaterThan(30);
    });

    it(`passes on in ${locale} what i18next alone answers: sections, default values, another language, several keys, its own options`, () => {
      const other = SUPPORTED_LOCALES.find((language) => language !== locale);
      const calls: Array<[unknown, ...unknown[]]> = [
        ['units', { returnObjects: true }],
        ['units'],
        ['units', { count: 2 }],
        ['no.such.key', { defaultValue: 'fallback {{value}}', value: 1 }],
        ['admin.orders.order.eventTypes.no_such_type', { defaultValue: 'no_such_type' }],
        ['no.such.key', 'fallback'],
        ['units.one', { lng: other, value: '1,00' }],
        ['account.pages', { lng: other, count: 1 }],
        ['units.one', { lng: 'de', value: '1,00' }],
        ['units.one', { lng: null, value: '1,00' }],
        [['no.such.key', 'units.one'], { value: '1,00' }],
        ['units.other', { replace: { value: '2,00' } }],
        ['account.pages', { count: 3, ordinal: true }],
        ['units.other', Object.assign(Object.create({ value: 'inherited' }) as object, { own: 1 })],
        ['units.other', Object.defineProperty({}, 'value', { value: 'not enumerable', enumerable: false })],
      ];
      for (const [key, ...options] of calls) same(key, ...options);
    });

    it(`answers random counts, contexts and values in ${locale} as i18next does`, () => {
      const value = fc.oneof(
        fc.string(),
        fc.string({ unit: fc.constantFrom('<', '>', '&', '"', "'", '{', '}', '$', 't', '(', ')', '-', 'a') }),
        fc.integer(),
        fc.double(),
        fc.boolean(),
        fc.constant(null),
        fc.constant(undefined),
        fc.date({ noInvalidDate: true }),
      );
      const options = fc.constantFrom(...asked).chain(({ key, contexts, names }) =>
        fc.tuple(
          fc.constant(key),
          fc.record(
            {
              count: fc.oneof(fc.nat(30), fc.integer(), fc.double(), fc.string(), fc.constant(null), fc.bigInt()),
              context: fc.oneof(fc.constantFrom('', ...contexts), fc.string(), fc.integer()),
              lng: fc.constantFrom(...SUPPORTED_LOCALES, null),
              values: fc.dictionary(fc.constantFrom('value', ...names), value),
            },
            { requiredKeys: [] },
          ),
        ),
      );
      fc.assert(
        fc.property(options, ([key, { values, ...rest }]) => {
          same(key, { ...values, ...rest });
        }),
        { numRuns: 2000 },
      );
    });
  }
});
