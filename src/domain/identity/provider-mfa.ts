import type { AuthnContext } from './identity.js';

/**
 * Whether an institution's provider proved a second factor: then the portal does not ask for its own
 * (the issue 24 policy counts the provider's check as the sign-in's second step). Pure: the provider's
 * configuration and what its verified answer said.
 */

/** REFEDS MFA Profile: defined for SAML (AuthnContextClassRef) and OIDC (acr); its only meaning is MFA. */
export const REFEDS_MFA = 'https://refeds.org/profile/mfa';

/** OIDC `amr` values that prove MFA on their own: RFC 8176 `mfa` ("multiple-factor authentication"). */
export const DEFAULT_MFA_AMR: readonly string[] = ['mfa'];

/** OIDC `acr` values that prove MFA: the REFEDS profile. Other acr values are each provider's own vocabulary. */
export const DEFAULT_MFA_ACR: readonly string[] = [REFEDS_MFA];

/**
 * SAML classes whose definition requires two factors: the REFEDS profile; AD FS and Entra ID's
 * `multipleauthn`; and the SAML 2.0 classes whose text says "two-factor" (SmartcardPKI: the card's key
 * and its PIN; MobileTwoFactor*). Not TimeSyncToken or Smartcard: one device, a single factor by their
 * definition; not PasswordProtectedTransport, X509, Kerberos and the like.
 */
export const DEFAULT_MFA_CONTEXTS: readonly string[] = [
  REFEDS_MFA,
  'http://schemas.microsoft.com/claims/multipleauthn',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered',
];

/**
 * RFC 8176 methods by factor category (something one knows, has, is). The others (`user` presence,
 * `geo`, `rba` risk, `wia` Windows login, `mca` several channels, `mfa`) name no single factor.
 */
export const AMR_FACTORS: Readonly<Record<string, 'knowledge' | 'possession' | 'inherence'>> = {
  pwd: 'knowledge',
  pin: 'knowledge',
  kba: 'knowledge',
  hwk: 'possession',
  swk: 'possession',
  otp: 'possession',
  sms: 'possession',
  tel: 'possession',
  sc: 'possession',
  pop: 'possession',
  fpt: 'inherence',
  face: 'inherence',
  iris: 'inherence',
  retina: 'inherence',
  vbm: 'inherence',
};

/** The part of a provider's configuration the rule reads (OIDC, SAML; CAS and LDAP have none of it). */
export type MfaSettings =
  | { kind: 'oidc'; trustProviderMfa: boolean; mfaAmr: readonly string[]; mfaAcr: readonly string[] }
  | { kind: 'saml'; trustProviderMfa: boolean; mfaContexts: readonly string[] }
  | { kind: 'cas' | 'ldap' };

/**
 * OIDC: `acr` is one of `mfaAcr`, or `amr` holds one of `mfaAmr`, or `amr` names factors of two
 * categories (`pwd`+`otp`, `pin`+`hwk`, `swk`+`fpt`): MFA as NIST SP 800-63B defines it. A method
 * alone (`otp`, `hwk`, `sc`) may be the only factor (a passwordless link, a key without PIN).
 * SAML: the AuthnContextClassRef is one of `mfaContexts`. CAS and LDAP: never (no standard way to say
 * it). A provider with `trustProviderMfa: false` never proves it; the portal then asks for its own.
 */
export function provesMfa(settings: MfaSettings, context: AuthnContext | undefined): boolean {
  if (!context) return false;
  switch (settings.kind) {
    case 'saml':
      return settings.trustProviderMfa && context.classRef !== undefined && settings.mfaContexts.includes(context.classRef);
    case 'oidc':
      return settings.trustProviderMfa && oidcProvesMfa(settings, context);
    default:
      return false;
  }
}

function oidcProvesMfa(settings: { mfaAmr: readonly string[]; mfaAcr: readonly string[] }, { acr, amr = [] }: AuthnContext): boolean {
  if (acr !== undefined && settings.mfaAcr.includes(acr)) return true;
  if (amr.some((method) => settings.mfaAmr.includes(method))) return true;
  const categories = new Set(amr.flatMap((method) => (Object.hasOwn(AMR_FACTORS, method) ? [AMR_FACTORS[method]] : [])));
  return categories.size >= 2;
}

/** What the audit keeps of the context that was accepted: only the parts the provider sent. */
export function acceptedContext(context: AuthnContext): AuthnContext {
  return {
    ...(context.amr ? { amr: [...context.amr] } : {}),
    ...(context.acr !== undefined ? { acr: context.acr } : {}),
    ...(context.classRef !== undefined ? { classRef: context.classRef } : {}),
  };
}
