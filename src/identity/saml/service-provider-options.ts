import { ValidateInResponseTo, type CacheProvider, type SamlConfig } from '@node-saml/node-saml';
import type { SamlProviderConfig } from '../../domain/identity/provider-config.js';

/** How long an AuthnRequest may wait for its answer: as long as the browser's pending cookie lives. */
export const REQUEST_LIFETIME_MS = 10 * 60_000;

/**
 * node-saml's options for this SP. The choices that are not node-saml's defaults:
 * - `wantAssertionsSigned: true`, `wantAuthnResponseSigned: false`: the assertion must carry a valid
 *   signature of the IdP whether or not the Response does. Shibboleth and ADFS sign only the assertion
 *   by default, and everything we read comes from that signed assertion (subject, attributes, Issuer,
 *   Recipient, and InResponseTo, which must equal the Response's), never from the envelope; a signed
 *   Response alone is refused.
 * - `validateInResponseTo: always`: an unsolicited (IdP-initiated) or unknown answer is refused.
 * - no NameIDPolicy format and no RequestedAuthnContext: node-saml would ask for an e-mail NameID and
 *   password authentication, which IdPs using MFA or Kerberos, or without e-mail NameIDs, refuse.
 * - requests signed with RSA-SHA256 when the SP has a key and certificate.
 */
export function serviceProviderOptions(
  config: SamlProviderConfig,
  sp: { entityId: string; acsUrl: string; requestIds: CacheProvider },
): SamlConfig {
  const signing = config.secret && config.spCertificate ? { privateKey: config.secret, publicCert: config.spCertificate, signatureAlgorithm: 'sha256' as const } : {};
  return {
    issuer: sp.entityId,
    audience: sp.entityId,
    callbackUrl: sp.acsUrl,
    entryPoint: config.entryPoint,
    idpCert: config.idpCertificates,
    idpIssuer: config.idpIssuer,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    validateInResponseTo: ValidateInResponseTo.always,
    requestIdExpirationPeriodMs: REQUEST_LIFETIME_MS,
    cacheProvider: sp.requestIds,
    acceptedClockSkewMs: config.clockSkewSeconds * 1000,
    identifierFormat: null,
    disableRequestedAuthnContext: true,
    ...signing,
  };
}
