import { randomBytes } from 'node:crypto';
import { SAML, SamlStatusError, type Profile } from '@node-saml/node-saml';
import { refused, type ProviderFailure } from '../../domain/identity/identity.js';
import type { SamlProviderConfig } from '../../domain/identity/provider-config.js';
import type { RedirectIdentityProvider, SignInKeyStore } from '../provider.js';
import { profileAttributes, profileClassRef, profileSubject } from './profile-identity.js';
import { requestIdCache, SignInKeyStoreError } from './request-id-cache.js';
import { checkWhatNodeSamlLeaves } from './response-checks.js';
import { samlHealth } from './saml-health.js';
import { sealedBox } from '../../domain/shared/sealed-box.js';
import type { Attributes } from '../../domain/identity/identity.js';
import { REQUEST_LIFETIME_MS, serviceProviderOptions } from './service-provider-options.js';

/**
 * What the ACS proved, carried by the browser from the IdP's cross-site POST (no cookie of ours) to
 * the callback (the pending cookie), sealed, in the URL: hence short-lived.
 */
interface SignInResult {
  /** The AuthnRequest this answers: the callback refuses it unless this browser started that request. */
  requestId: string;
  subject: string;
  attributes: Attributes;
  /** The assertion's AuthnContextClassRef (how the IdP says the person authenticated). */
  classRef?: string;
}

export const RESULT_LIFETIME_MS = 2 * 60_000;

export interface SamlProviderOptions {
  /** Our SP entityID (also the audience the assertions must name). */
  entityId: string;
  /** Where the IdP posts its answer: PUBLIC_URL + /auth/<id>/acs. */
  acsUrl: string;
  /** Where the browser brings the sealed result: PUBLIC_URL + /auth/<id>/callback. */
  callbackUrl: string;
  /** This provider's sign_in_keys: request ids waiting for an answer, and used assertion ids. */
  keys: SignInKeyStore;
  /** The secret the result between the ACS and the callback is sealed under (SESSION_SECRET; a key per provider is derived from it). */
  sealKey: Buffer;
  now?: () => Date;
}

/** A base64 SAMLResponse this long is no sign-in answer (a large one with many groups is ~30 KB). */
const MAX_RESPONSE_LENGTH = 512 * 1024;

/**
 * A SAML 2.0 service provider (SP-initiated Web SSO, HTTP-Redirect request, HTTP-POST answer) on
 * node-saml. node-saml checks the signatures, the audience, the validity times and InResponseTo;
 * checkWhatNodeSamlLeaves the rest, and the keys refuse a replayed assertion. node-saml reads its own
 * clock for the validity times; `now` serves the rest.
 */
export function createSamlProvider(config: SamlProviderConfig, options: SamlProviderOptions): RedirectIdentityProvider {
  const now = options.now ?? (() => new Date());
  const spOptions = serviceProviderOptions(config, { ...options, requestIds: requestIdCache(options.keys, now, REQUEST_LIFETIME_MS) });
  const saml = new SAML(spOptions);
  // Bound to this provider: a result sealed for another provider sharing the secret opens under none.
  const seal = sealedBox(options.sealKey, `saml-result:${config.id}`);

  /** node-saml's verdict on the POSTed answer, then ours; the keys are claimed only once all checks pass. */
  async function verify(samlResponse: string): Promise<{ ok: true; result: SignInResult } | ProviderFailure> {
    let profile: Profile | null;
    try {
      ({ profile } = await saml.validatePostResponseAsync({ SAMLResponse: samlResponse }));
    } catch (error) {
      if (error instanceof SignInKeyStoreError) throw error.cause;
      if (error instanceof SamlStatusError) return { ok: false, reason: 'cancelled', detail: `the IdP answered: ${error.message}` };
      return refused(`node-saml: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!profile) return refused('not a sign-in answer (a passive or logout response)');
    const accepted = checkWhatNodeSamlLeaves(profile, { acsUrl: options.acsUrl, idpIssuer: config.idpIssuer, clockSkewMs: config.clockSkewSeconds * 1000, now: now() });
    if ('problem' in accepted) return refused(accepted.problem);
    const attributes = profileAttributes(profile);
    const subject = profileSubject(profile, attributes, config.subjectAttribute);
    if (typeof subject !== 'string') return refused(subject.problem);
    // node-saml forgets a request once answered, but two answers racing each other both find it first.
    if (!(await options.keys.claim(`answered:${accepted.requestId}`, new Date(now().getTime() + REQUEST_LIFETIME_MS)))) {
      return refused(`request ${accepted.requestId} was already answered`);
    }
    if (!(await options.keys.claim(accepted.replayKey, accepted.replayableUntil))) return refused('this assertion was already used (replay)');
    const classRef = profileClassRef(profile);
    return { ok: true, result: { requestId: accepted.requestId, subject, attributes, ...(classRef ? { classRef } : {}) } };
  }

  return {
    id: config.id,
    kind: 'saml',

    async start() {
      // node-saml names the request itself; handing it the id is how we learn which one it saved.
      const requestId = `_${randomBytes(20).toString('hex')}`;
      const location = await new SAML({ ...spOptions, generateUniqueId: () => requestId }).getAuthorizeUrlAsync('', undefined, {});
      return { location, pending: { requestId } };
    },

    async acceptPost(body) {
      const samlResponse = body.SAMLResponse;
      if (typeof samlResponse !== 'string' || samlResponse.length === 0) return refused('the POST carries no SAMLResponse');
      if (samlResponse.length > MAX_RESPONSE_LENGTH) return refused(`the SAMLResponse is ${samlResponse.length} characters long`);
      const verified = await verify(samlResponse);
      if (!verified.ok) return verified;
      return { location: `${options.callbackUrl}?result=${seal.seal(verified.result, now().getTime() + RESULT_LIFETIME_MS)}` };
    },

    async finish({ url, pending }) {
      const token = url.searchParams.get('result');
      if (!token) return refused('the callback carries no sealed result');
      const opened = seal.open(token, now().getTime());
      if (!opened.ok) return refused(opened.problem);
      const result = opened.value as SignInResult;
      // Login CSRF: an answer to a request started in another browser must not sign this one in.
      if (result.requestId !== pending.requestId) return refused(`the result answers request ${result.requestId}, this browser started ${pending.requestId ?? 'none'}`);
      return { ok: true, subject: result.subject, attributes: result.attributes, authnContext: result.classRef ? { classRef: result.classRef } : {} };
    },

    metadata() {
      return saml.generateServiceProviderMetadata(null, config.spCertificate ?? null);
    },

    health() {
      return samlHealth(config, now());
    },
  };
}
