import { isReservedUsername, normalizeUsername, USERNAME_PATTERN, type Role } from '../people/users.js';
import { isLocale, type Locale } from '../shared/locale.js';
import type { Attributes, VerifiedIdentity } from './identity.js';
import { DEFAULT_MAPPINGS, type ProviderConfig } from './provider-config.js';

/** A person as a provider describes them, in the portal's terms. */
export interface ProvidedProfile {
  username: string;
  displayName: string;
  email: string;
  locale: Locale | null;
  /** The role the provider gives (providedRole). */
  role: Role;
}

/** Why a provider's description cannot make an account: no usable username or e-mail, or no role for this person. */
export type ProfileProblem = 'incomplete_profile' | 'no_role';

const EMAIL = /^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/;

const first = (attributes: Attributes, name: string) => attributes[name]?.find((value) => value.trim() !== '')?.trim();

/** "fr", "fr-FR", "en_GB" → a supported language; anything else → null. */
export function localeFromAttribute(value: string | undefined): Locale | null {
  const language = value?.trim().toLowerCase().split(/[-_]/)[0];
  return isLocale(language) ? language : null;
}

/**
 * The first role rule whose attribute holds its value exactly (or in any case, for a rule that says
 * so), or null. Role rules read any attribute (groups, affiliations, departments), so that
 * `eduPersonAffiliation = staff` and `groups = /print-admins` are written alike.
 */
export function roleFromRules(provider: Pick<ProviderConfig, 'roleRules'>, attributes: Attributes): Role | null {
  for (const rule of provider.roleRules) {
    const values = attributes[rule.attribute] ?? [];
    const same = (value: string) => (rule.ignoreCase ? value.toLowerCase() === rule.value.toLowerCase() : value === rule.value);
    if (values.some(same)) return rule.role;
  }
  return null;
}

/** The role the provider gives: its rules', else its default (null: the provider refuses this person). */
export function providedRole(provider: Pick<ProviderConfig, 'roleRules' | 'defaultRole'>, attributes: Attributes): Role | null {
  return roleFromRules(provider, attributes) ?? provider.defaultRole;
}

/**
 * Control characters, bidi marks and overrides, zero-width space and BOM: never part of a name shown
 * on receipts. Not every format character: ZWNJ and ZWJ spell some Persian and Indic names.
 */
const INVISIBLE = /[\p{Cc}\u200B\u200E\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF]/gu;

/**
 * Name, e-mail, language and role from the provider's attributes through its mapping. The username
 * is the provider's login name (print servers find people by it), else the e-mail address — from an
 * OpenID provider only if it says the address is verified (`email_verified`), since people may type
 * any address into some providers' profiles — never a name kept for anonymised accounts (closed-<number>).
 */
export function profileFrom(provider: ProviderConfig, identity: VerifiedIdentity): ProvidedProfile | ProfileProblem {
  const mapping = { ...DEFAULT_MAPPINGS[provider.kind], ...provider.mapping };
  const attributes = identity.attributes;
  const email = first(attributes, mapping.email);
  if (!email || !EMAIL.test(email) || email.length > 254 || new RegExp(INVISIBLE.source, 'u').test(email)) return 'incomplete_profile';
  const emailVerified = provider.kind !== 'oidc' || first(attributes, 'email_verified') === 'true';
  const login = first(attributes, mapping.username);
  const candidates = [login, emailVerified ? email : undefined];
  const username = candidates.map((candidate) => (candidate ? normalizeUsername(candidate) : '')).find((candidate) => USERNAME_PATTERN.test(candidate) && !isReservedUsername(candidate));
  if (!username) return 'incomplete_profile';
  const role = providedRole(provider, attributes);
  if (!role) return 'no_role';
  const displayName = (first(attributes, mapping.displayName)?.replace(INVISIBLE, '').trim() || username).slice(0, 200);
  return { username, displayName, email, locale: localeFromAttribute(first(attributes, mapping.locale)), role };
}
