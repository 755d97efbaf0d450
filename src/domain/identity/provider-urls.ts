import type { ProviderConfig } from './provider-config.js';

/** What the provider's administrators must be given, by name: SAML metadata and ACS, OIDC redirect URIs, the CAS service pattern. */
export type ProviderUrlName = 'metadata' | 'acs' | 'redirectUri' | 'postLogoutRedirectUri' | 'servicePattern' | 'logoutService';

/** Where a provider's own logout sends the browser back to (OIDC post-logout redirect, CAS logout service). */
export const loggedOutUrl = (publicUrl: string) => `${publicUrl}/login?notice=logged-out`;

/** The portal's own routes of a provider: `/auth/<id>/…`. */
export const providerPath = (id: string, route: 'callback' | 'acs' | 'metadata') => `/auth/${id}/${route}`;

/**
 * The absolute URLs (from PUBLIC_URL) that a provider's administrators register on their side. LDAP
 * needs none: the portal is the one that connects.
 */
export function providerUrls(provider: Pick<ProviderConfig, 'id' | 'kind'>, publicUrl: string): Array<{ name: ProviderUrlName; url: string }> {
  const absolute = (route: Parameters<typeof providerPath>[1]) => `${publicUrl}${providerPath(provider.id, route)}`;
  switch (provider.kind) {
    case 'saml':
      return [
        { name: 'metadata', url: absolute('metadata') },
        { name: 'acs', url: absolute('acs') },
      ];
    case 'oidc':
      return [
        { name: 'redirectUri', url: absolute('callback') },
        { name: 'postLogoutRedirectUri', url: loggedOutUrl(publicUrl) },
      ];
    case 'cas':
      // The service carries the sign-in's state (cas-provider.ts): CAS servers register it by pattern.
      return [
        { name: 'servicePattern', url: `^${escapeRegExp(absolute('callback'))}\\?state=[A-Za-z0-9_-]+$` },
        // CAS servers follow a logout's service only when it is registered too.
        { name: 'logoutService', url: loggedOutUrl(publicUrl) },
      ];
    case 'ldap':
      return [];
  }
}

/** Where the portal itself connects: the issuer, the IdP's sign-on URL, the CAS server or the directory. */
export function providerEndpoint(provider: ProviderConfig): string {
  switch (provider.kind) {
    case 'oidc':
      return provider.issuer;
    case 'saml':
      return provider.entryPoint;
    case 'cas':
      return provider.serverUrl;
    case 'ldap':
      return provider.url;
  }
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
