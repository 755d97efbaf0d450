import type { ProviderConfig } from '../../domain/identity/provider-config.js';
import type { Locale } from '../../domain/shared/locale.js';
import type { IdentityProvider, PasswordIdentityProvider, RedirectIdentityProvider } from '../../identity/provider.js';

/** One configured provider: its settings and the protocol gateway built from them. */
export interface ConfiguredProvider<P extends IdentityProvider = IdentityProvider> {
  readonly config: ProviderConfig;
  readonly gateway: P;
  /** The button's or the directory's name in the reader's language. */
  label(locale: Locale): string;
  /** A demo provider built into the portal (demo mode), shown as such. */
  readonly demo: boolean;
}

/** Every provider the portal was configured with, in the configured order. */
export interface IdentityRegistry {
  readonly all: readonly ConfiguredProvider[];
  /** The providers with a button on the login page (OIDC, SAML, CAS). */
  readonly redirects: readonly ConfiguredProvider<RedirectIdentityProvider>[];
  /** The directories the login form's password is checked against (LDAP / AD), in order. */
  readonly directories: readonly ConfiguredProvider<PasswordIdentityProvider>[];
  byId(id: string): ConfiguredProvider | undefined;
}

export function identityRegistry(all: readonly ConfiguredProvider[]): IdentityRegistry {
  const byId = new Map(all.map((provider) => [provider.config.id, provider]));
  return {
    all,
    redirects: all.filter((provider): provider is ConfiguredProvider<RedirectIdentityProvider> => provider.gateway.kind !== 'ldap'),
    directories: all.filter((provider): provider is ConfiguredProvider<PasswordIdentityProvider> => provider.gateway.kind === 'ldap'),
    byId: (id) => byId.get(id),
  };
}

/** A label as configured: one text for every language, or one per language. */
export function labelIn(label: ProviderConfig['label'], locale: Locale): string {
  return typeof label === 'string' ? label : label[locale];
}
