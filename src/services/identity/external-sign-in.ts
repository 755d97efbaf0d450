import { recordAudit } from '../../db/audit/audit-repository.js';
import { isUniqueViolation, type Database } from '../../db/database.js';
import { findIdentityLink, insertIdentityLink, recordIdentitySignIn } from '../../db/identity/identity-repository.js';
import { findAccountByUserId, getAccountByCode, postTransaction } from '../../db/ledger/ledger-repository.js';
import { findUserById, insertUser, stripPassword, updateUser } from '../../db/people/user-repository.js';
import type { Knex } from 'knex';
import type { VerifiedIdentity } from '../../domain/identity/identity.js';
import { profileFrom, providedRole, type ProfileProblem, type ProvidedProfile } from '../../domain/identity/profile.js';
import type { ProviderConfig } from '../../domain/identity/provider-config.js';
import { SystemAccount, type Hundredths } from '../../domain/ledger/ledger.js';
import { UserError, type Role, type User } from '../../domain/people/users.js';
import type { Clock } from '../../domain/time/clock.js';

export type ExternalSignInResult =
  | { outcome: 'success'; user: User; created: boolean }
  | { outcome: 'disabled' }
  /** `username_taken`: a portal account already has this username and is not linked to this identity (an admin links it). */
  | { outcome: 'refused'; problem: ProfileProblem | 'username_taken' };

/** The ledger key of a person's welcome credit: one per person, whichever provider or instance creates the account. */
export const welcomeCreditKey = (userId: number) => `welcome-credit:${userId}`;

export type ExternalSignIn = (provider: ProviderConfig, identity: VerifiedIdentity) => Promise<ExternalSignInResult>;

/**
 * Turns an identity a provider proved into a portal account, in one transaction. The link
 * (provider, stable identifier) finds the account; without one, an account is created just in time
 * with the provider's name, e-mail, language and role, and the welcome credit is posted once. An
 * account disabled in the portal stays disabled. When the provider has role rules, they decide the
 * role at every sign-in (leaving the admins' group takes the admin role away); without rules the
 * role is set at creation only, so an admin's promotion in the portal lasts. A provider that owns
 * the profile refreshes name and e-mail at every sign-in; its language fills in an account that has none.
 */
export function createExternalSignIn({ db, clock, welcomeCredit }: { db: Database; clock: Clock; welcomeCredit: Hundredths }): ExternalSignIn {
  const attempt = (provider: ProviderConfig, identity: VerifiedIdentity) =>
    db.transaction(async (trx): Promise<ExternalSignInResult> => {
      const now = clock.now();
      const profile = profileFrom(provider, identity);
      const link = await findIdentityLink(trx, provider.id, identity.subject);
      if (!link) {
        if (typeof profile === 'string') return { outcome: 'refused', problem: profile };
        return createAccount(trx, provider, identity.subject, profile, now);
      }
      const user = await findUserById(trx, link.userId);
      if (!user) throw new Error(`identity ${provider.id} links to a missing person ${link.userId}`);
      if (user.disabled) return { outcome: 'disabled' };
      // The rules decide even when the rest of the profile is missing (an offboarding that cleared the e-mail).
      // A provider that admits nobody by default (`defaultRole: null`) refuses its linked people too once no rule admits them.
      const role = provider.roleRules.length > 0 || provider.defaultRole === null ? providedRole(provider, identity.attributes) : user.role;
      if (!role) return { outcome: 'refused', problem: 'no_role' };
      await refreshAccount(trx, provider, user, role, typeof profile === 'string' ? null : profile, now);
      await recordIdentitySignIn(trx, provider.id, identity.subject, now);
      return { outcome: 'success', user: stripPassword((await findUserById(trx, user.id))!), created: false };
    });

  async function createAccount(trx: Knex.Transaction, provider: ProviderConfig, subject: string, profile: ProvidedProfile, now: Date): Promise<ExternalSignInResult> {
    let user: User;
    try {
      user = await insertUser(trx, { username: profile.username, displayName: profile.displayName, email: profile.email, role: profile.role, locale: profile.locale, passwordHash: null }, now);
    } catch (error) {
      if (error instanceof UserError && error.code === 'username_taken') return { outcome: 'refused', problem: 'username_taken' };
      throw error;
    }
    // A unique violation here (the same person signing in twice at once) rolls back and is retried below.
    if (!(await insertIdentityLink(trx, { userId: user.id, providerId: provider.id, subject, linkedBy: null }, now))) throw new ConcurrentFirstSignIn();
    await recordIdentitySignIn(trx, provider.id, subject, now);
    await recordAudit(trx, { actor: { id: null, username: `provider:${provider.id}` }, action: 'person.created_by_sign_in', target: user.username, before: null, after: { role: user.role, provider: provider.id } }, now);
    if (welcomeCredit > 0) {
      const account = (await findAccountByUserId(trx, user.id))!;
      const system = await getAccountByCode(trx, SystemAccount.adjustments);
      await postTransaction(
        trx,
        {
          idempotencyKey: welcomeCreditKey(user.id),
          kind: 'adjustment',
          lines: [
            { accountId: account.id, amount: welcomeCredit },
            { accountId: system.id, amount: -welcomeCredit },
          ],
          description: 'welcome credit',
        },
        now,
      );
    }
    return { outcome: 'success', user, created: true };
  }

  async function refreshAccount(trx: Knex.Transaction, provider: ProviderConfig, user: User, role: Role, profile: ProvidedProfile | null, now: Date): Promise<void> {
    const profileChanged = profile !== null && provider.ownsProfile && (profile.displayName !== user.displayName || profile.email !== user.email);
    if (role !== user.role) {
      await recordAudit(trx, { actor: { id: null, username: `provider:${provider.id}` }, action: 'person.role', target: user.username, before: { role: user.role }, after: { role } }, now);
    }
    // A language the person never chose (an account an admin linked) is taken from the provider; a choice made in the portal stays.
    const locale = user.locale === null && profile?.locale ? profile.locale : undefined;
    if (role !== user.role || profileChanged || locale) {
      await updateUser(trx, user.username, { role: role === user.role ? undefined : role, locale, ...(profileChanged ? { displayName: profile.displayName, email: profile.email } : {}) }, now);
    }
  }

  return async (provider, identity) => {
    try {
      const result = await attempt(provider, identity);
      // The username may be taken by this very person's first sign-in on another request (PostgreSQL
      // reports the username first): once more, that one's link is found.
      return result.outcome === 'refused' && result.problem === 'username_taken' ? await attempt(provider, identity) : result;
    } catch (error) {
      // Two first sign-ins of one person at once: the one that lost now finds the link the other made.
      if (error instanceof ConcurrentFirstSignIn || isUniqueViolation(error)) return attempt(provider, identity);
      throw error;
    }
  };
}

class ConcurrentFirstSignIn extends Error {}
