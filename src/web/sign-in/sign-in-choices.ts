import { loggedOutUrl } from '../../domain/identity/provider-urls.js';
import type { Locale } from '../../domain/shared/locale.js';
import type { IdentityRegistry } from '../../services/identity/registry.js';

/** What the login page offers, and how a person signed in through a provider is signed out there. */
export interface SignInChoices {
  identity: IdentityRegistry;
  /** `staff`: the password form is for admin and IT accounts (and directories' people) only. */
  localPasswords: 'everyone' | 'staff';
  /** The provider's logout, for a session opened through `method`; undefined for passwords and providers without one. */
  logoutLocation(method: string | undefined, idToken: string | undefined): string | undefined;
}

export function signInChoices(identity: IdentityRegistry, { publicUrl, localPasswords }: { publicUrl: string; localPasswords: 'everyone' | 'staff' }): SignInChoices {
  const returnTo = loggedOutUrl(publicUrl);
  return {
    identity,
    localPasswords,
    logoutLocation(method, idToken) {
      const provider = method ? identity.byId(method) : undefined;
      if (!provider || provider.gateway.kind === 'ldap') return undefined;
      return provider.gateway.logoutLocation?.({ idToken, returnTo });
    },
  };
}

/**
 * The login page's part of the choices: a button per redirect provider (carrying the page's
 * returnTo, already checked as a local path) and the directories whose passwords the form accepts.
 */
export function signInPageChoices(choices: SignInChoices, locale: Locale, returnTo: string) {
  const query = returnTo && returnTo !== '/' ? `?returnTo=${encodeURIComponent(returnTo)}` : '';
  return {
    providers: choices.identity.redirects.map((provider) => ({ href: `/auth/${provider.config.id}${query}`, label: provider.label(locale), demo: provider.demo })),
    directories: choices.identity.directories.map((directory) => directory.label(locale)),
    passwordsForStaffOnly: choices.localPasswords === 'staff' && choices.identity.directories.length === 0,
    returnTo: query ? returnTo : '',
  };
}
