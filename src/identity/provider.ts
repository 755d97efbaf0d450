/**
 * What the portal needs from an institution's identity provider. Each protocol implements one of two
 * shapes: a redirect to the provider and back (OpenID Connect, SAML 2.0, CAS), or a password checked
 * against a directory on the login form (LDAP / Active Directory). The gateways only prove who came
 * back and with which attributes; turning that into a portal account is services/identity's job.
 */
import type { ProviderHealth, ProviderFailure, VerifiedIdentity } from '../domain/identity/identity.js';

/** Kept in the browser between the start and the return (an encrypted, HttpOnly cookie, 10 minutes). */
export type PendingState = Readonly<Record<string, string>>;

export interface RedirectIdentityProvider {
  readonly id: string;
  readonly kind: 'oidc' | 'saml' | 'cas';
  /** Where the browser goes, and what the return must match (state, nonce, PKCE verifier, request id…). */
  start(): Promise<{ location: string; pending: PendingState }>;
  /**
   * The browser came back to `/auth/<id>/callback` (a top-level GET, so the pending cookie is sent).
   * `url` is the full callback URL as the provider was told it (from PUBLIC_URL), with its query.
   */
  finish(callback: { url: URL; pending: PendingState }): Promise<VerifiedIdentity | ProviderFailure>;
  /**
   * SAML only: the IdP's cross-site POST to `/auth/<id>/acs`, which carries no cookie of ours
   * (SameSite=Lax). The response is checked here, then the browser is sent on, by a 303, to the
   * callback with a short-lived sealed result, which `finish` opens and binds to the pending request.
   */
  acceptPost?(body: Readonly<Record<string, unknown>>): Promise<{ location: string } | ProviderFailure>;
  /** Where to send the browser after the portal's own logout (RP-initiated / CAS logout), if the provider offers it. */
  logoutLocation?(signedIn: { idToken?: string; returnTo: string }): string | undefined;
  /** SAML only: the SP metadata served at `/auth/<id>/metadata`. */
  metadata?(): string;
  /** Discovery or metadata reachable, certificates not expiring soon; never throws. */
  health(): Promise<ProviderHealth>;
}

export interface PasswordIdentityProvider {
  readonly id: string;
  readonly kind: 'ldap';
  /**
   * Checks a username and password against the directory: `invalid` for a wrong password, an unknown
   * or ambiguous username and an empty password (never sent: it would be an unauthenticated bind);
   * `unavailable` when the directory did not answer within the timeout.
   */
  verify(username: string, password: string): Promise<VerifiedIdentity | ProviderFailure>;
  health(): Promise<ProviderHealth>;
}

export type IdentityProvider = RedirectIdentityProvider | PasswordIdentityProvider;

/**
 * One provider's keys in the database (table sign_in_keys), shared by every instance: what an answer
 * may carry only once (SAML assertion ids, CAS tickets), and SAML request ids waiting for their answer.
 */
export interface SignInKeyStore {
  /** Records `key` until `expiresAt`; false when it is already recorded and unexpired (a replay). */
  claim(key: string, expiresAt: Date): Promise<boolean>;
  /** Keeps `value` under `key` until `expiresAt` (node-saml's request-id cache). */
  save(key: string, value: string, expiresAt: Date): Promise<void>;
  /** The unexpired value under `key`, or null. */
  get(key: string): Promise<string | null>;
  remove(key: string): Promise<void>;
}
