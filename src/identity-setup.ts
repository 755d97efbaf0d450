import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { signInKeyRepository } from './db/identity/sign-in-key-repository.js';
import type { ProviderConfig } from './domain/identity/provider-config.js';
import type { Clock } from './domain/time/clock.js';
import type { IdentityProvider } from './identity/provider.js';
import { identityRegistry, labelIn, type IdentityRegistry } from './services/identity/registry.js';

/** The built-in demo provider's id (config refuses it for a configured provider). */
export const DEMO_PROVIDER_ID = 'demo';

/**
 * Builds each configured provider's protocol gateway, with the URLs the provider is told (from
 * PUBLIC_URL, never from a request) and its share of the sign_in_keys table. A protocol's module is
 * imported only when a provider uses it: node-saml, openid-client and ldapts take about 0.25 s to load
 * together, which a portal without institutional sign-in would pay at every start.
 */
export async function createIdentityRegistry({ config, db, clock, providers }: { config: Config; db: Database; clock: Clock; providers: readonly ProviderConfig[] }): Promise<IdentityRegistry> {
  const publicUrl = config.server.publicUrl;
  const gatewayOf = async (provider: ProviderConfig): Promise<IdentityProvider> => {
    const base = `${publicUrl}/auth/${provider.id}`;
    const keys = () => signInKeyRepository(db.knex, provider.id, () => clock.now());
    switch (provider.kind) {
      case 'oidc': {
        const { createOidcProvider } = await import('./identity/oidc/oidc-provider.js');
        return createOidcProvider(provider, { callbackUrl: `${base}/callback`, allowInsecureHttp: config.env !== 'production' });
      }
      case 'saml': {
        const { createSamlProvider } = await import('./identity/saml/saml-provider.js');
        return createSamlProvider(provider, {
          entityId: `${base}/metadata`,
          acsUrl: `${base}/acs`,
          callbackUrl: `${base}/callback`,
          keys: keys(),
          sealKey: Buffer.from(config.session.secret),
          now: () => clock.now(),
        });
      }
      case 'cas': {
        const { createCasProvider } = await import('./identity/cas/cas-provider.js');
        return createCasProvider(provider, { serviceUrl: `${base}/callback`, keys: keys() });
      }
      case 'ldap': {
        const { createLdapProvider } = await import('./identity/ldap/ldap-provider.js');
        return createLdapProvider(provider, { now: () => clock.now() });
      }
    }
  };
  return identityRegistry(
    await Promise.all(providers.map(async (provider) => ({
      config: provider,
      gateway: await gatewayOf(provider),
      label: (locale) => labelIn(provider.label, locale),
      demo: provider.id === DEMO_PROVIDER_ID,
    }))),
  );
}

/** The demo CAS server as a provider of the portal (demo mode only). */
export function demoProviderConfig(serverUrl: string): ProviderConfig {
  return {
    id: DEMO_PROVIDER_ID,
    kind: 'cas',
    label: { fr: 'ENT de démonstration (CAS)', en: 'Demo institution (CAS)' },
    serverUrl,
    version: 3,
    mapping: {},
    roleRules: [],
    defaultRole: 'user',
    ownsProfile: true,
    timeoutMs: 5_000,
  };
}
