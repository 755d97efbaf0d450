import { createHash } from 'node:crypto';
import type { Profile } from '@node-saml/node-saml';
import { DOMParser } from '@xmldom/xmldom';

const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';

/** An element of node-saml's parsed assertion (xml2js: attributes in `$`, text in `_`, child elements in arrays). */
type XmlElement = { $?: Record<string, string | undefined>; _?: string } & { [child: string]: unknown };

const children = (element: XmlElement | undefined, name: string): XmlElement[] => {
  const value = element?.[name];
  return Array.isArray(value) ? (value as XmlElement[]) : [];
};

export interface ResponseExpectations {
  acsUrl: string;
  idpIssuer: string;
  clockSkewMs: number;
  now: Date;
}

/** A signed assertion that answers one of our requests, and how long it must be remembered. */
export interface AcceptedAssertion {
  /** The AuthnRequest it answers (InResponseTo, inside the signed assertion). */
  requestId: string;
  /** The sign_in_keys key that refuses the same assertion twice. */
  replayKey: string;
  /** NotOnOrAfter plus the accepted clock skew: until then node-saml would accept it again. */
  replayableUntil: Date;
}

/**
 * What node-saml 5.1.0 leaves to us (issues #405 and #437, and SAML 2.0 Profiles §4.1.4), read from
 * the assertion node-saml verified, never from the unsigned envelope except its Destination:
 * the assertion's Issuer is our IdP; it is addressed to our ACS (a bearer SubjectConfirmation whose
 * Recipient is our ACS URL, and the Response's Destination when present); the confirmation answers the
 * request named by the Response (so a signed assertion cannot be moved under another request's id);
 * and it says until when it could be replayed.
 */
export function checkWhatNodeSamlLeaves(profile: Profile, expected: ResponseExpectations): AcceptedAssertion | { problem: string } {
  const assertion = (profile.getAssertion?.() as { Assertion?: XmlElement } | undefined)?.Assertion;
  if (!assertion) return { problem: 'no assertion in the verified response' };

  const issuer = children(assertion, 'Issuer')[0]?._;
  if (issuer !== expected.idpIssuer) return { problem: `the assertion's Issuer is ${JSON.stringify(issuer)}, not ${JSON.stringify(expected.idpIssuer)}` };

  const destination = responseDestination(profile.getSamlResponseXml?.() ?? '');
  if (destination === undefined) return { problem: 'the Response cannot be read' };
  if (destination !== null && destination !== expected.acsUrl) return { problem: `the Response's Destination is ${JSON.stringify(destination)}, not our ACS ${expected.acsUrl}` };

  const confirmations = children(children(assertion, 'Subject')[0], 'SubjectConfirmation').filter((confirmation) => confirmation.$?.Method === BEARER);
  const data = confirmations.map((confirmation) => children(confirmation, 'SubjectConfirmationData')[0]?.$ ?? {});
  const ours = data.find((attributes) => attributes.Recipient === expected.acsUrl);
  if (!ours) return { problem: `no bearer SubjectConfirmation for our ACS ${expected.acsUrl} (Recipient: ${data.map((attributes) => JSON.stringify(attributes.Recipient)).join(', ') || 'none'})` };

  const requestId = typeof profile.inResponseTo === 'string' ? profile.inResponseTo : undefined;
  if (!requestId || ours.InResponseTo !== requestId) return { problem: `the signed SubjectConfirmationData answers ${JSON.stringify(ours.InResponseTo)}, the Response ${JSON.stringify(requestId)}` };

  // SAML Profiles §4.1.4.5: a used ID is kept until NotOnOrAfter; a claim already expired would keep nothing.
  const notOnOrAfter = Date.parse(ours.NotOnOrAfter ?? '');
  if (Number.isNaN(notOnOrAfter)) return { problem: 'the bearer SubjectConfirmationData has no valid NotOnOrAfter' };
  const replayableUntil = new Date(notOnOrAfter + expected.clockSkewMs);
  if (replayableUntil <= expected.now) return { problem: `the bearer SubjectConfirmationData expired at ${ours.NotOnOrAfter}` };

  const assertionId = assertion.$?.ID;
  if (!assertionId) return { problem: 'the assertion has no ID' };
  // Hashed: an ID of any length fits the key column.
  return { requestId, replayKey: `assertion:${createHash('sha256').update(assertionId).digest('hex')}`, replayableUntil };
}

/**
 * The Response element's Destination attribute: null when absent, undefined when this parser cannot
 * read what node-saml's (an older @xmldom) accepted.
 */
function responseDestination(responseXml: string): string | null | undefined {
  try {
    const root = new DOMParser().parseFromString(responseXml, 'text/xml').documentElement;
    return root?.hasAttribute('Destination') ? root.getAttribute('Destination') : null;
  } catch {
    return undefined;
  }
}
