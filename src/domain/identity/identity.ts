/** What an identity provider proved, in the portal's words: pure values, no protocol. */

/** Attribute values as the provider sent them: every attribute may repeat (groups, affiliations). */
export type Attributes = Readonly<Record<string, readonly string[]>>;

export interface VerifiedIdentity {
  ok: true;
  /**
   * The provider's stable identifier for the person (OIDC `sub`, SAML pairwise-id / eduPersonPrincipalName
   * / persistent NameID, CAS user, LDAP entryUUID or objectGUID): never a display name, never an e-mail alone.
   */
  subject: string;
  attributes: Attributes;
  /** What the provider needs to end its own session at logout (OIDC: the ID token). */
  logout?: { idToken?: string };
  /** How the provider says the person authenticated (absent for CAS and LDAP, which have no standard way). */
  authnContext?: AuthnContext;
}

/**
 * The provider's own account of the authentication, as it sent it, from the verified answer only:
 * OIDC the ID token's `amr` (RFC 8176 method references) and `acr`; SAML the assertion's
 * AuthnStatement/AuthnContext/AuthnContextClassRef. Whether it proves MFA is `provesMfa`'s call.
 */
export interface AuthnContext {
  amr?: readonly string[];
  acr?: string;
  classRef?: string;
}

/**
 * Why a sign-in did not happen. `refused`: the answer failed a check (signature, audience, state,
 * nonce, replay, expired ticket…) or the password was wrong; `unavailable`: the provider did not
 * answer in time; `cancelled`: the person or the provider stopped at the provider's page.
 * `detail` is for the log only, never shown.
 */
export interface ProviderFailure {
  ok: false;
  reason: 'refused' | 'unavailable' | 'cancelled';
  detail: string;
}

export const refused = (detail: string): ProviderFailure => ({ ok: false, reason: 'refused', detail });
export const unavailable = (detail: string): ProviderFailure => ({ ok: false, reason: 'unavailable', detail });

export interface ProviderHealth {
  /** Discovery document, metadata or directory reached and valid. */
  reachable: boolean;
  /** What was checked, or why it failed, in English for admins and logs. */
  detail: string;
  /** SAML: the IdP signing certificates' expiry dates (ISO); LDAPS: the server certificate's. */
  certificates?: ReadonlyArray<{ subject: string; notAfter: string }>;
  checkedAt: string;
}
