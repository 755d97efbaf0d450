/**
 * A small SAML 2.0 identity provider for tests: its own RSA key and self-signed certificate, and
 * Responses built as XML strings and signed with xml-crypto (the Assertion, then optionally the
 * Response; exclusive c14n, RSA-SHA256), with options to break every part a service provider checks.
 */
import { createVerify, randomBytes } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { DOMParser } from '@xmldom/xmldom';
import { generate } from 'selfsigned';
import { SignedXml } from 'xml-crypto';

const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const SAML_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';
const SAMLP_NS = 'urn:oasis:names:tc:SAML:2.0:protocol';

export const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';
export const TRANSIENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient';
export const PASSWORD_PROTECTED_TRANSPORT = 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport';

/** Who signs in: a NameID and attributes (Name → values, NameFormat uri). */
export interface SamlPerson {
  nameId: { value: string; format: string };
  attributes: Readonly<Record<string, readonly string[]>>;
}

/** Everything a Response says; `answer` fills it from the AuthnRequest, tests override a part to break it. */
export interface ResponseOptions {
  person: SamlPerson;
  /** The Response's InResponseTo; null leaves it out (an unsolicited response). */
  inResponseTo: string | null;
  /** The bearer SubjectConfirmationData's InResponseTo (default: the Response's); null leaves it out. */
  subjectInResponseTo?: string | null;
  /** The bearer SubjectConfirmationData's Recipient. */
  recipient: string;
  /** The Response's Destination; null leaves it out. */
  destination: string | null;
  audience: string;
  /** The Issuer of the Response and of the Assertion. */
  issuer?: string;
  assertionId?: string;
  /** Conditions/@NotBefore (default: now). */
  notBefore?: Date;
  /** Conditions/@NotOnOrAfter and SubjectConfirmationData/@NotOnOrAfter (default: now + 5 minutes). */
  notOnOrAfter?: Date;
  /** The bearer SubjectConfirmationData's own NotOnOrAfter (default: `notOnOrAfter`). */
  subjectNotOnOrAfter?: Date;
  /** A second bearer SubjectConfirmation, before ours (an assertion confirming two SPs). */
  extraConfirmation?: { recipient: string; notOnOrAfter: Date };
  /** Default true. */
  signAssertion?: boolean;
  /** Default false (Shibboleth's default: only the assertion is signed). */
  signResponse?: boolean;
  /**
   * Signature wrapping: an unsigned assertion for `evil` placed before or after the signed one, or
   * around it (the signed assertion moved into the evil one's Advice), after the signing.
   */
  wrap?: { evil: SamlPerson; placement: 'before' | 'after' | 'around' };
  /** A status other than Success (the IdP refused or the person cancelled): no assertion. */
  status?: string;
  /** The AuthnStatement's AuthnContextClassRef (default: PasswordProtectedTransport, a password). */
  classRef?: string;
}

export interface AuthnRequestSeen {
  id: string;
  issuer: string;
  acsUrl: string;
  destination: string;
  /** NameIDPolicy/@Format, null when the SP lets the IdP choose. */
  nameIdFormat: string | null;
  /** Whether the SP asked for an authentication class (which an IdP using MFA or Kerberos may refuse). */
  requestsAuthnContext: boolean;
  relayState?: string;
  /** Whether the query carried a Signature (verified against `spCertificate` when the IdP has one). */
  signed: boolean;
}

export interface TestSamlIdp {
  readonly entityId: string;
  readonly ssoUrl: string;
  readonly certificate: string;
  /** The IdP's metadata (EntityDescriptor with its signing certificate and SSO endpoint). */
  metadata(): string;
  /** A Response as XML. */
  responseXml(options: ResponseOptions): string;
  /** Reads the AuthnRequest of the portal's redirect URL; throws when its signature does not verify. */
  readRequest(redirectUrl: string): AuthnRequestSeen;
  /**
   * What the IdP's auto-posting form sends to the portal's ACS after `person` signed in, answering
   * the AuthnRequest of `redirectUrl`; `overrides` break a part of it.
   */
  answer(redirectUrl: string, person: SamlPerson, overrides?: Partial<ResponseOptions>): { SAMLResponse: string; RelayState?: string };
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const newId = () => `_${randomBytes(16).toString('hex')}`;

export async function createTestSamlIdp({
  entityId = 'https://idp.test.example/idp/shibboleth',
  ssoUrl = 'https://idp.test.example/idp/profile/SAML2/Redirect/SSO',
  certificateNotAfter,
  spCertificate,
  now = () => new Date(),
}: { entityId?: string; ssoUrl?: string; certificateNotAfter?: Date; spCertificate?: string; now?: () => Date } = {}): Promise<TestSamlIdp> {
  const notBeforeDate = new Date(now().getTime() - 24 * 3600_000);
  const pems = await generate([{ name: 'commonName', value: `Test IdP ${entityId}` }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: certificateNotAfter ?? new Date(now().getTime() + 365 * 24 * 3600_000),
  });

  const sign = (xml: string, element: 'Assertion' | 'Response'): string => {
    const path = element === 'Assertion' ? "/*[local-name(.)='Assertion']" : "/*[local-name(.)='Response']";
    const signer = new SignedXml({ privateKey: pems.private, publicCert: pems.cert, signatureAlgorithm: RSA_SHA256, canonicalizationAlgorithm: EXC_C14N });
    signer.addReference({ xpath: path, digestAlgorithm: SHA256, transforms: [ENVELOPED, EXC_C14N] });
    signer.computeSignature(xml, { location: { reference: `${path}/*[local-name(.)='Issuer']`, action: 'after' } });
    return signer.getSignedXml();
  };

  const assertionXml = (options: ResponseOptions, person: SamlPerson, id: string, inner = ''): string => {
    const issued = now();
    const notBefore = (options.notBefore ?? issued).toISOString();
    const notOnOrAfter = (options.notOnOrAfter ?? new Date(issued.getTime() + 5 * 60_000)).toISOString();
    const subjectInResponseTo = options.subjectInResponseTo === undefined ? options.inResponseTo : options.subjectInResponseTo;
    const confirmation = (recipient: string, until: string) =>
      `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="${until}" Recipient="${escapeXml(recipient)}"${
        subjectInResponseTo === null ? '' : ` InResponseTo="${escapeXml(subjectInResponseTo)}"`
      }/></saml:SubjectConfirmation>`;
    const attributes = Object.entries(person.attributes)
      .map(
        ([name, values]) =>
          `<saml:Attribute Name="${escapeXml(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">${values
            .map((value) => `<saml:AttributeValue xsi:type="xs:string">${escapeXml(value)}</saml:AttributeValue>`)
            .join('')}</saml:Attribute>`,
      )
      .join('');
    return (
      `<saml:Assertion xmlns:saml="${SAML_NS}" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="${id}" Version="2.0" IssueInstant="${issued.toISOString()}">` +
      `<saml:Issuer>${escapeXml(options.issuer ?? entityId)}</saml:Issuer>` +
      (inner ? `<saml:Advice>${inner}</saml:Advice>` : '') +
      `<saml:Subject><saml:NameID Format="${person.nameId.format}">${escapeXml(person.nameId.value)}</saml:NameID>` +
      (options.extraConfirmation ? confirmation(options.extraConfirmation.recipient, options.extraConfirmation.notOnOrAfter.toISOString()) : '') +
      confirmation(options.recipient, options.subjectNotOnOrAfter?.toISOString() ?? notOnOrAfter) +
      `</saml:Subject>` +
      `<saml:Conditions NotBefore="${notBefore}" NotOnOrAfter="${notOnOrAfter}"><saml:AudienceRestriction><saml:Audience>${escapeXml(options.audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
      `<saml:AuthnStatement AuthnInstant="${issued.toISOString()}" SessionIndex="${newId()}"><saml:AuthnContext><saml:AuthnContextClassRef>${escapeXml(options.classRef ?? PASSWORD_PROTECTED_TRANSPORT)}</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
      (attributes ? `<saml:AttributeStatement>${attributes}</saml:AttributeStatement>` : '') +
      `</saml:Assertion>`
    );
  };

  const responseXml = (options: ResponseOptions): string => {
    let assertions = '';
    if (options.status === undefined) {
      const unsigned = assertionXml(options, options.person, options.assertionId ?? newId());
      const signed = options.signAssertion === false ? unsigned : sign(unsigned, 'Assertion');
      const evil = options.wrap && ((inner = '') => assertionXml(options, options.wrap!.evil, newId(), inner));
      assertions = !evil ? signed : options.wrap!.placement === 'before' ? evil() + signed : options.wrap!.placement === 'after' ? signed + evil() : evil(signed);
    }
    const statusCode = options.status ?? 'urn:oasis:names:tc:SAML:2.0:status:Success';
    const response =
      `<samlp:Response xmlns:samlp="${SAMLP_NS}" xmlns:saml="${SAML_NS}" ID="${newId()}" Version="2.0" IssueInstant="${now().toISOString()}"` +
      (options.destination === null ? '' : ` Destination="${escapeXml(options.destination)}"`) +
      (options.inResponseTo === null ? '' : ` InResponseTo="${escapeXml(options.inResponseTo)}"`) +
      `><saml:Issuer>${escapeXml(options.issuer ?? entityId)}</saml:Issuer>` +
      `<samlp:Status><samlp:StatusCode Value="${statusCode}"/></samlp:Status>${assertions}</samlp:Response>`;
    return options.signResponse ? sign(response, 'Response') : response;
  };

  const readRequest = (redirectUrl: string): AuthnRequestSeen => {
    const url = new URL(redirectUrl);
    const encoded = url.searchParams.get('SAMLRequest');
    if (!encoded) throw new Error(`no SAMLRequest in ${redirectUrl}`);
    const signature = url.searchParams.get('Signature');
    if (spCertificate) {
      // HTTP-Redirect binding §3.4.4.1: the signature covers the query parameters as they were sent.
      const raw = (name: string) => url.search.slice(1).split('&').find((part) => part.startsWith(`${name}=`));
      const signedPart = ['SAMLRequest', 'RelayState', 'SigAlg'].map(raw).filter(Boolean).join('&');
      if (url.searchParams.get('SigAlg') !== RSA_SHA256 || !signature) throw new Error('the AuthnRequest is not signed with RSA-SHA256');
      if (!createVerify('RSA-SHA256').update(signedPart).verify(spCertificate, signature, 'base64')) throw new Error('the AuthnRequest signature does not verify');
    }
    const request = new DOMParser().parseFromString(inflateRawSync(Buffer.from(encoded, 'base64')).toString('utf8'), 'text/xml').documentElement;
    if (!request || request.localName !== 'AuthnRequest') throw new Error('not an AuthnRequest');
    return {
      id: request.getAttribute('ID') ?? '',
      issuer: request.getElementsByTagNameNS(SAML_NS, 'Issuer')[0]?.textContent ?? '',
      acsUrl: request.getAttribute('AssertionConsumerServiceURL') ?? '',
      destination: request.getAttribute('Destination') ?? '',
      nameIdFormat: request.getElementsByTagNameNS(SAMLP_NS, 'NameIDPolicy')[0]?.getAttribute('Format') ?? null,
      requestsAuthnContext: request.getElementsByTagNameNS(SAMLP_NS, 'RequestedAuthnContext').length > 0,
      relayState: url.searchParams.get('RelayState') ?? undefined,
      signed: signature !== null,
    };
  };

  return {
    entityId,
    ssoUrl,
    certificate: pems.cert,
    metadata: () =>
      `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${escapeXml(entityId)}">` +
      `<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAuthnRequestsSigned="false">` +
      `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${pems.cert.replace(/-----[A-Z ]+-----|\s/g, '')}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
      `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${escapeXml(ssoUrl)}"/>` +
      `</md:IDPSSODescriptor></md:EntityDescriptor>`,
    responseXml,
    readRequest,
    answer(redirectUrl, person, overrides = {}) {
      const request = readRequest(redirectUrl);
      const xml = responseXml({ person, inResponseTo: request.id, recipient: request.acsUrl, destination: request.acsUrl, audience: request.issuer, ...overrides });
      return { SAMLResponse: Buffer.from(xml, 'utf8').toString('base64'), ...(request.relayState === undefined ? {} : { RelayState: request.relayState }) };
    },
  };
}
