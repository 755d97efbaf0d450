import { normalizeUsername, USERNAME_PATTERN, type Role } from '../people/users.js';
import { isLocale, type Locale } from '../shared/locale.js';
import type { Attributes, VerifiedIdentity } from './identity.js';
import { DEFAULT_MAPPINGS, type ProviderConfig } from './provider-config.js';

/** A person as a provider describes them, in the portal's terms. */
export interface ProvidedProfile {
  username: string;
  displayName: string;
  email: string;
  locale: Locale | null;
  /** The role the provider's rules give; null when the provider has no rules and nothing is granted by group. */
  ruledRole: Role | null;
  /** The role a new account gets: the rules' role, else the provider's default. */
  initialRole: Role;
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
 * The first role rule whose attribute holds its value (case-insensitive), or null. Role rules read
 * any attribute (groups, affiliations, departments), so that `eduPersonAffiliation = staff` and
 * `groups = print-admins` are written alike.
 */
export function roleFromRules(provider: Pick<ProviderConfig, 'roleRules'>, attributes: Attributes): Role | null {
  for (const rule of provider.roleRules) {
    const values = attributes[rule.attribute] ?? [];
    if (values.some((value) => value.trim().toLowerCase() === rule.value.toLowerCase())) return rule.role;
  }
  return null;
}

/**
 * Name, e-mail, language and role from the provider's attributes through its mapping. The username
 * is the provider's login name (print servers find people by it), else the e-mail address.
 */
export function profileFrom(provider: ProviderConfig, identity: VerifiedIdentity): ProvidedProfile | ProfileProblem {
  const mapping = { ...DEFAULT_MAPPINGS[provider.kind], ...provider.mapping };
  const attributes = identity.attributes;
  const email = first(attributes, mapping.email);
  if (!email || !EMAIL.test(email) || email.length > 254) return 'incomplete_profile';
  const login = first(attributes, mapping.username);
  const username = [login, email].map((candidate) => (candidate ? normalizeUsername(candidate) : '')).find((candidate) => USERNAME_PATTERN.test(candidate));
  if (!username) return 'incomplete_profile';
  const ruledRole = roleFromRules(provider, attributes);
  const initialRole = ruledRole ?? provider.defaultRole;
  if (!initialRole) return 'no_role';
  const displayName = (first(attributes, mapping.displayName) ?? username).slice(0, 200);
  return { username, displayName, email, locale: localeFromAttribute(first(attributes, mapping.locale)), ruledRole, initialRole };
}
