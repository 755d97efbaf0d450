import type { Attributes, AuthnContext } from '../../domain/identity/identity.js';

/**
 * Claims as the portal's attributes: every value a list of strings (groups stay a list, a name becomes
 * a list of one; numbers and booleans as text). Structured claims (address) and null carry nothing the
 * mapping can use and are left out, as is a list with no plain value in it.
 */
export function attributesOf(claims: Readonly<Record<string, unknown>>): Attributes {
  const attributes: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(claims)) {
    const values = (Array.isArray(value) ? value : [value]).filter(isPlain).map(String);
    if (values.length > 0) attributes[name] = values;
  }
  return attributes;
}

const isPlain = (value: unknown): value is string | number | boolean => typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

/**
 * How the person authenticated, from the ID token only (the userinfo answer is no statement about the
 * authentication): `amr` when it is a list of strings, `acr` when it is a string; a claim of another
 * shape is left out, as if the provider had said nothing.
 */
export function authnContextOf(idToken: Readonly<Record<string, unknown>>): AuthnContext {
  const { amr, acr } = idToken;
  return {
    ...(Array.isArray(amr) && amr.every((method) => typeof method === 'string') ? { amr: amr as string[] } : {}),
    ...(typeof acr === 'string' ? { acr } : {}),
  };
}
