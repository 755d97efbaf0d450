import type { Profile } from '@node-saml/node-saml';
import type { Attributes } from '../../domain/identity/identity.js';

export const PAIRWISE_ID = 'urn:oasis:names:tc:SAML:attribute:pairwise-id';
export const EDU_PERSON_PRINCIPAL_NAME = 'urn:oid:1.3.6.1.4.1.5923.1.1.1.6';
export const PERSISTENT_NAME_ID = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';

/**
 * Every attribute of the verified assertion, keyed by its Name, as strings. node-saml gives one value
 * as a string and several as an array; values that are elements (an eduPersonTargetedID's NameID) are
 * left out: the portal maps text only.
 */
export function profileAttributes(profile: Profile): Attributes {
  const attributes = (profile.attributes ?? {}) as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [name, (Array.isArray(value) ? value : [value]).filter((item): item is string => typeof item === 'string')]),
  );
}

/**
 * The person's stable identifier. A configured attribute is the only source: falling back would
 * silently switch identifier spaces and link the person to another account. Otherwise, in order of
 * stability: pairwise-id (one per SP), eduPersonPrincipalName, then a persistent NameID. A transient
 * NameID or an e-mail changes or is reassigned, so none of them means refused.
 */
export function profileSubject(profile: Profile, attributes: Attributes, subjectAttribute: string | undefined): string | { problem: string } {
  const single = (name: string) => {
    const values = attributes[name] ?? [];
    return values.length === 1 && values[0] ? values[0] : undefined;
  };
  if (subjectAttribute) return single(subjectAttribute) ?? { problem: `no single value of the subject attribute ${subjectAttribute}` };
  const subject = single(PAIRWISE_ID) ?? single(EDU_PERSON_PRINCIPAL_NAME) ?? (profile.nameIDFormat === PERSISTENT_NAME_ID && profile.nameID ? profile.nameID : undefined);
  return subject ?? { problem: `no pairwise-id, eduPersonPrincipalName or persistent NameID (NameID format ${JSON.stringify(profile.nameIDFormat)})` };
}

/** An element of node-saml's parsed assertion (xml2js with explicitCharkey: text in `_`, children in arrays). */
type XmlElement = { _?: unknown } & { [child: string]: unknown };
const children = (element: XmlElement | undefined, name: string): XmlElement[] => {
  const value = element?.[name];
  return Array.isArray(value) ? (value as XmlElement[]) : [];
};

/**
 * The AuthnContextClassRef of the verified assertion (node-saml's profile has no field for it; its
 * parsed assertion, `getAssertion()`, is the signed one). Only when the assertion has exactly one
 * AuthnStatement with one class: several would describe several authentications, and which one this
 * sign-in was is not said, so none counts.
 */
export function profileClassRef(profile: Profile): string | undefined {
  const assertion = (profile.getAssertion?.() as { Assertion?: XmlElement } | undefined)?.Assertion;
  const statements = children(assertion, 'AuthnStatement');
  if (statements.length !== 1) return undefined;
  const classRefs = children(children(statements[0], 'AuthnContext')[0], 'AuthnContextClassRef');
  const text = classRefs.length === 1 ? classRefs[0]?._ : undefined;
  return typeof text === 'string' && text.trim() !== '' ? text.trim() : undefined;
}
