/**
 * A message ready to answer: a plain message is its text, an interpolated one a function of the
 * call's options (its values); ASK_I18NEXT marks what only i18next answers (sections, which it
 * turns into objects or a sentence about them, and messages in forms compiled here never are).
 */
type CompiledMessage = string | ((values: object) => string);
export const ASK_I18NEXT = Symbol('ask i18next');
export type CompiledEntry = CompiledMessage | typeof ASK_I18NEXT;

// i18next's own placeholder pattern (interpolation prefix and suffix as configured: the defaults).
const PLACEHOLDER = /\{\{(.+?)\}\}/g;
const VALUE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Options i18next or its getFixedT put among a call's values: a placeholder of that name is left to i18next. */
const SET_BY_I18NEXT = new Set(['lng', 'lngs', 'ns', 'keyPrefix']);
const isOwnEnumerable = (values: object, name: string) => Object.prototype.propertyIsEnumerable.call(values, name);

/**
 * A value as i18next's interpolation writes it with escapeValue off: EJS escapes on output. A value
 * the call does not give keeps its placeholder; one given as undefined or null is written as nothing.
 * (i18next reads values from a copy of the options: own enumerable properties only.)
 */
function valueText(values: object, name: string, placeholder: string): string {
  if (!isOwnEnumerable(values, name)) return placeholder;
  const value = (values as Record<string, unknown>)[name];
  return value === undefined || value === null ? '' : String(value);
}

/**
 * `text` as a function of its values, or ASK_I18NEXT for what i18next does more with: nesting
 * (`$t(…)`), unescaped (`{{- x}}`) and formatted (`{{x, number}}`) values, paths into values, names
 * i18next fills itself, empty messages (a default value given as an object would replace them).
 * Placeholders are split as i18next's interpolation finds them, and a placeholder inside a value
 * is left as it is (skipOnVariables, i18next's default).
 */
function compileMessage(text: string): CompiledEntry {
  if (text === '' || text.includes('$t(') || text.includes('{{-')) return ASK_I18NEXT;
  if (!text.includes('{{')) return text;
  const literals: string[] = [];
  const names: string[] = [];
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    const name = match[1] as string;
    if (!VALUE_NAME.test(name) || SET_BY_I18NEXT.has(name)) return ASK_I18NEXT;
    literals.push(text.slice(last, match.index));
    names.push(name);
    last = match.index + match[0].length;
  }
  if (names.length === 0) return text;
  literals.push(text.slice(last));
  const placeholders = names.map((name) => `{{${name}}}`);
  return (values) => {
    let out = literals[0] as string;
    for (let index = 0; index < names.length; index += 1) {
      out += valueText(values, names[index] as string, placeholders[index] as string) + (literals[index + 1] as string);
    }
    return out;
  };
}

/**
 * Every key of a catalog as i18next finds it (sections and messages, joined with dots) with its
 * compiled message. A key segment with a dot, a colon or `###` would be found by i18next in other
 * ways than its path (flat keys, namespaces): such keys are refused rather than answered wrongly.
 */
export function compileCatalog(catalog: Record<string, unknown>, prefix = '', into = new Map<string, CompiledEntry>()): Map<string, CompiledEntry> {
  for (const [segment, value] of Object.entries(catalog)) {
    if (/[.:]|###/.test(segment)) throw new Error(`translation key "${prefix}${segment}" holds a dot, a colon or ###`);
    const key = `${prefix}${segment}`;
    if (typeof value === 'string') {
      into.set(key, compileMessage(value));
    } else {
      into.set(key, ASK_I18NEXT);
      if (typeof value === 'object' && value !== null) compileCatalog(value as Record<string, unknown>, `${key}.`, into);
    }
  }
  return into;
}
