import { Filter, type Entry } from 'ldapts';
import type { Attributes } from '../../domain/identity/identity.js';
import { DEFAULT_MAPPINGS, type LdapProviderConfig } from '../../domain/identity/provider-config.js';

/**
 * The configured filter with the typed username in place of `{username}`, escaped (RFC 4515): `*`,
 * parentheses, backslashes and NUL are then matched literally, never read as filter syntax. Through
 * a function, not a replacement string, which would give `$&` and its kin in a username a meaning.
 */
export function userFilter(template: string, username: string): string {
  return template.replaceAll('{username}', () => Filter.escape(username));
}

/** The attributes asked for by name: the mapping's and the subject's (entryUUID and memberOf are operational, sent only when asked for). */
export function requestedAttributes(config: LdapProviderConfig): string[] {
  const mapping = { ...DEFAULT_MAPPINGS.ldap, ...config.mapping };
  return [...new Set([...Object.values(mapping), config.subjectAttribute])];
}

/** Attributes holding bytes: ldapts must hand them over as buffers, which a UTF-8 decoding would corrupt. */
export const BINARY_ATTRIBUTES = ['objectGUID'];

/**
 * The entry's values of each requested attribute, under the name it was requested by (servers send
 * their schema's spelling, e.g. `displayName` for `displayname`); absent or empty ones left out.
 */
export function readAttributes(entry: Entry, requested: readonly string[]): Attributes {
  const byLowerName = new Map(Object.entries(entry).map(([name, value]) => [name.toLowerCase(), value]));
  const attributes: Record<string, string[]> = {};
  for (const name of requested) {
    const lower = name.toLowerCase();
    const value = lower === 'dn' ? undefined : byLowerName.get(lower);
    const values = (Array.isArray(value) ? value : value === undefined ? [] : [value]).map((one) => (typeof one === 'string' ? one : lower === 'objectguid' ? guidText(one) : one.toString('utf8')));
    if (values.length > 0) attributes[name] = values;
  }
  return attributes;
}

/**
 * Active Directory's objectGUID as AD's own tools print it (3f2504e0-4f89-11d3-9a0c-0305e82c3301):
 * the first three fields are stored little-endian, the last two as they are.
 */
export function guidText(bytes: Buffer): string {
  if (bytes.length !== 16) return bytes.toString('hex');
  const reversed = (start: number, end: number) => Buffer.from(bytes.subarray(start, end)).reverse().toString('hex');
  const tail = bytes.subarray(8).toString('hex');
  return `${reversed(0, 4)}-${reversed(4, 6)}-${reversed(6, 8)}-${tail.slice(0, 4)}-${tail.slice(4)}`;
}
