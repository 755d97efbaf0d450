import { DOMParser, onWarningStopParsing, type Element } from '@xmldom/xmldom';
import { refused, type ProviderFailure, type VerifiedIdentity } from '../../domain/identity/identity.js';
import { CAS_NAMESPACE } from './protocol.js';

/**
 * Reads the CAS server's answer to `serviceValidate` / `p3/serviceValidate`: the person's `cas:user`
 * and `cas:attributes` (each a list, since attributes repeat), plus `user` itself, the name the
 * default mapping reads the username from. Namespace-aware, so a look-alike element in another
 * namespace counts for nothing.
 */
export function readServiceResponse(xml: string): VerifiedIdentity | ProviderFailure {
  // A CAS answer never needs a document type: refusing one up front rules out entity tricks (XXE, entity expansion).
  if (/<!(DOCTYPE|ENTITY)/i.test(xml)) return refused('the CAS answer declares a document type or entities');
  let root: Element | null;
  try {
    root = new DOMParser({ onError: onWarningStopParsing }).parseFromString(xml, 'text/xml').documentElement;
  } catch {
    return refused('the CAS answer is not well-formed XML');
  }
  if (!root || !isCas(root, 'serviceResponse')) return refused('the CAS answer is not a cas:serviceResponse');
  const outcomes = casChildren(root);
  const [outcome] = outcomes;
  if (!outcome || outcomes.length > 1) return refused('the CAS answer holds no single outcome');
  if (outcome.localName === 'authenticationFailure') {
    return refused(`the CAS server refused the ticket: ${(outcome.getAttribute('code') ?? '').slice(0, 40) || 'no code'}`);
  }
  if (outcome.localName !== 'authenticationSuccess') return refused(`the CAS answer's outcome is cas:${outcome.localName}`);
  // serviceValidate must not accept a proxy ticket; a proxy chain in the answer means it did.
  if (casChildren(outcome, 'proxies').length > 0) return refused('the CAS answer names a proxy chain');
  const users = casChildren(outcome, 'user');
  const subject = users.length === 1 ? text(users[0] as Element) : '';
  if (subject === '') return refused('the CAS answer holds no single, non-empty cas:user');

  const attributes: Record<string, string[]> = {};
  for (const element of casChildren(outcome, 'attributes').flatMap((list) => casChildren(list))) {
    (attributes[element.localName as string] ??= []).push(text(element));
  }
  attributes.user = [subject];
  return { ok: true, subject, attributes };
}

function isCas(element: Element, localName: string): boolean {
  return element.namespaceURI === CAS_NAMESPACE && element.localName === localName;
}

/** The child elements in the CAS namespace (all of them, or those named `localName`). */
function casChildren(parent: Element, localName?: string): Element[] {
  const children: Element[] = [];
  for (const node of Array.from(parent.childNodes)) {
    if (node.nodeType !== node.ELEMENT_NODE) continue;
    const element = node as Element;
    if (element.namespaceURI === CAS_NAMESPACE && (localName === undefined || element.localName === localName)) children.push(element);
  }
  return children;
}

const text = (element: Element) => (element.textContent ?? '').trim();
