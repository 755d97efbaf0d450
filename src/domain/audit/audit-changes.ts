/** One thing an audited action changed: a key of an object (or the whole value, key null), compactly shown. */
export interface AuditChange {
  key: string | null;
  /** Undefined when the key or value was absent. */
  before?: string;
  after?: string;
}

/** Longest value shown in the log; the rest is cut with an ellipsis. */
export const MAX_SHOWN_LENGTH = 80;

type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** JSON with object keys sorted, so that two equal values written in another key order compare equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A value as the log shows it: texts as they are, anything else as JSON; cut to `maxLength` characters. */
export function compactValue(value: unknown, maxLength = MAX_SHOWN_LENGTH): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null');
  const characters = [...text];
  return characters.length <= maxLength ? text : `${characters.slice(0, maxLength - 1).join('')}…`;
}

/**
 * What an audit entry's before and after differ in: for two objects, only the keys whose values
 * differ; otherwise the whole values (nothing when they are equal). Objects are compared by content,
 * not key order.
 */
export function auditChanges(before: unknown, after: unknown, maxLength = MAX_SHOWN_LENGTH): AuditChange[] {
  if (isObject(before) && isObject(after)) {
    const shownAt = (object: JsonObject, key: string) => (Object.hasOwn(object, key) ? compactValue(object[key], maxLength) : undefined);
    return [...new Set([...Object.keys(before), ...Object.keys(after)])]
      .filter((key) => !(Object.hasOwn(before, key) && Object.hasOwn(after, key) && canonical(before[key]) === canonical(after[key])))
      .map((key) => ({ key, before: shownAt(before, key), after: shownAt(after, key) }));
  }
  const absent = (value: unknown) => value === undefined || value === null;
  if ((absent(before) && absent(after)) || canonical(before) === canonical(after)) return [];
  const shown = (value: unknown) => (absent(value) ? undefined : compactValue(value, maxLength));
  return [{ key: null, before: shown(before), after: shown(after) }];
}
