import type { Database } from '../../db/database.js';
import { isFamiliarSource, rememberSource } from '../../db/people/familiar-source-repository.js';
import { purgeExpiredThrottleRows, updateThrottleStates, type ThrottleChanges } from '../../db/people/login-throttle-repository.js';
import { findUserByUsername, stripPassword, type UserWithPassword } from '../../db/people/user-repository.js';
import type { Clock } from '../../domain/time/clock.js';
import type { DeviceTokens } from '../../domain/people/device-token.js';
import {
  decideAttempt,
  deviceThrottleKey,
  FAMILIAR_SOURCE_DAYS,
  FAMILIAR_SOURCES_KEPT,
  forgiveRightPassword,
  loginSource,
  sourceDigest,
  throttleKeys,
  type AttemptChanges,
  type AttemptStates,
  type LoginPolicy,
  type Refusal,
} from '../../domain/people/login-throttle.js';
import { createDecoyHash, type PasswordHasher } from '../../domain/people/passwords.js';
import { normalizeUsername, USERNAME_PATTERN, type Role, type User } from '../../domain/people/users.js';
import type { VerifiedIdentity } from '../../domain/identity/identity.js';
import type { ProviderConfig } from '../../domain/identity/provider-config.js';
import type { PasswordIdentityProvider } from '../../identity/provider.js';
import type { ExternalSignIn, ExternalSignInResult } from '../identity/external-sign-in.js';

const PRIVILEGED_ROLES: readonly Role[] = ['admin', 'it'];
const DAY_MS = 24 * 60 * 60 * 1000;
/** How often an authenticator deletes the throttle rows that no longer hold anything. */
const PURGE_INTERVAL_MS = 60_000;

type AuthenticationResult =
  /** `deviceToken`: the browser's new device token for this username; `method`: `password` or the directory's id. */
  | { outcome: 'success'; user: User; deviceToken: string; method: string }
  | { outcome: 'invalid' }
  | { outcome: 'disabled' }
  | { outcome: 'throttled'; refusal: Refusal; retryAfterSeconds: number }
  /** The directory checked the password but no account can be made of what it says (external-sign-in.ts). */
  | { outcome: 'refused'; problem: Exclude<ExternalSignInResult, { outcome: 'success' | 'disabled' }>['problem'] }
  /** No directory answered within its timeout: the password could not be checked. */
  | { outcome: 'unavailable' };

/**
 * The directories the login form's password is also checked against (LDAP / Active Directory), in
 * order, and what turns their answer into an account.
 */
export interface PasswordDirectories {
  directories: ReadonlyArray<{ config: ProviderConfig; gateway: PasswordIdentityProvider }>;
  signIn: ExternalSignIn;
  /** `staff`: a portal password signs in admin and IT accounts only. */
  localPasswords: 'everyone' | 'staff';
}

interface AuthenticatorDependencies {
  db: Database;
  hasher: PasswordHasher;
  clock: Clock;
  policy: LoginPolicy;
  devices: DeviceTokens;
  directories?: PasswordDirectories;
}

/** `deviceToken`: the one the browser holds, if any (device-token.ts). */
export type Authenticator = (credentials: { username: string; password: string; ip: string; deviceToken?: string }) => Promise<AuthenticationResult>;

/**
 * Checks a username and password (the rules are in login-throttle.ts). Each attempt is counted as a
 * failure before the password is checked (and forgiven if it was right), so parallel attempts cannot
 * outrun the limits. An unknown username goes through the same queries and one argon2 verification,
 * so neither the answer nor its timing tells whether an account exists. "Disabled" is said only to
 * someone who gave the right password. A sign-in makes its source familiar to the account. Once a
 * minute, an attempt first deletes the throttle rows that have run their course: the table holds
 * only the last lock period's failures. A sign-in gives the browser a device token for the username;
 * an attempt bringing one back is counted by its device (an existing account's only).
 * With directories (LDAP / AD), a password that is not the account's accepted portal password (none,
 * a wrong one, or one the `staff` policy does not accept) is checked against each directory in turn,
 * under the same limits.
 */
export function createAuthenticator({ db, hasher, clock, policy, devices, directories }: AuthenticatorDependencies): Authenticator {
  const decoyHash = createDecoyHash(hasher);
  void decoyHash(); // computed now, so that the first unknown username is not slower than the rest
  const longestWindowMs = Math.max(...Object.values(policy).map((counter) => counter.windowMs));
  let purgeDueAt = 0;
  return async ({ username, password, ip, deviceToken }) => {
    const now = clock.now().getTime();
    if (now >= purgeDueAt) {
      purgeDueAt = now + PURGE_INTERVAL_MS;
      // Housekeeping: failing (PostgreSQL may pick it as a deadlock's victim against a login holding
      // the same rows) must not fail this login; the next purge comes a minute later.
      await purgeExpiredThrottleRows(db.knex, now, longestWindowMs).catch(() => undefined);
    }
    const normalized = normalizeUsername(username);
    const source = loginSource(ip);
    const user = await findUserByUsername(db.knex, normalized);
    // Checked for unknown usernames too, at the same cost; their tokens count for nothing (a deleted account's).
    const presentedDevice = devices.deviceOf(deviceToken, normalized);
    const deviceId = user ? presentedDevice : undefined;
    const rows: Record<string, string> = { ...throttleKeys(normalized, source), ...(deviceId ? { device: deviceThrottleKey(deviceId) } : {}) };
    // Asked for unknown usernames too (of nobody), so that they cost the same query.
    const familiar = await isFamiliarSource(db.knex, user?.id ?? 0, sourceDigest(source), now - FAMILIAR_SOURCE_DAYS * DAY_MS);
    const privileged = user !== undefined && PRIVILEGED_ROLES.includes(user.role);

    const update = <T>(decide: (states: AttemptStates) => { result: T; changes: AttemptChanges }) =>
      updateThrottleStates(db, Object.values(rows), (found) => {
        const states: AttemptStates = Object.fromEntries(Object.entries(rows).map(([name, key]) => [name, found.get(key)]));
        const { result, changes } = decide(states);
        const byKey: ThrottleChanges = new Map(Object.entries(changes).map(([name, state]) => [rows[name] as string, state]));
        return { result, changes: byKey };
      });

    const decision = await update((states) => {
      const decided = decideAttempt(states, { privileged, familiar, device: deviceId !== undefined }, now, policy);
      return { result: decided, changes: decided.verdict === 'check' ? decided.changes : {} };
    });
    if (decision.verdict === 'refuse') return throttled(decision.refusal, decision.retryAfterMs);
    const failed = (): AuthenticationResult => (decision.slowed ? throttled('slowed', policy.perAccount.slowedIntervalMs) : { outcome: 'invalid' });

    const verified = await verify(user, normalized, password);
    if (verified.outcome === 'invalid') return failed();
    // A slowed or locked account answers a right password as a wrong one; an outage must not tell them apart either.
    if (verified.outcome === 'unavailable') return decision.slowed ? failed() : verified;

    await update((states) => ({ result: undefined, changes: forgiveRightPassword(states, decision, policy) }));
    // A locked admin or IT account tried from an unfamiliar source: answered as a wrong password is there.
    if (decision.locked) return failed();
    // The directory's answer becomes an account only now: a locked attempt changes nothing.
    const signedIn = verified.outcome === 'directory' ? await directorySignIn(verified) : verified;
    if (signedIn.outcome !== 'success') return signedIn;
    if (signedIn.user.disabled) return { outcome: 'disabled' };
    await rememberSource(db, { userId: signedIn.user.id, sourceDigest: sourceDigest(source), now, keep: FAMILIAR_SOURCES_KEPT, since: now - FAMILIAR_SOURCE_DAYS * DAY_MS });
    return { outcome: 'success', user: signedIn.user, method: signedIn.method, deviceToken: devices.issue(normalized) };
  };

  type SignedIn = { outcome: 'success'; user: User; method: string } | Extract<AuthenticationResult, { outcome: 'disabled' | 'refused' }>;
  type Verified =
    | Extract<SignedIn, { outcome: 'success' }>
    | { outcome: 'directory'; directory: PasswordDirectories['directories'][number]; identity: VerifiedIdentity }
    | { outcome: 'invalid' }
    | { outcome: 'unavailable' };

  /**
   * One argon2 verification for every attempt (the account's hash where the policy accepts it, the
   * decoy otherwise), then, when it did not match, the directories: whatever the account, the same
   * work and the same answers, so neither timing nor a directory outage tells which usernames have a
   * portal password (admin and IT under LOCAL_PASSWORDS=staff). The directories get the normalized
   * username, which the throttle counted: a look-alike (full-width letters, which directories fold)
   * is the same username here as there.
   */
  async function verify(user: UserWithPassword | undefined, normalized: string, password: string): Promise<Verified> {
    const localAccepted = user?.passwordHash != null && (directories?.localPasswords !== 'staff' || PRIVILEGED_ROLES.includes(user.role));
    const hash = (localAccepted ? user?.passwordHash : null) ?? (await decoyHash());
    const matches = (await hasher.verify(hash, password)) && localAccepted;
    if (user && matches) return { outcome: 'success', user: stripPassword(user), method: 'password' };
    if (!directories?.directories.length || !USERNAME_PATTERN.test(normalized)) return { outcome: 'invalid' };
    let unavailableCount = 0;
    for (const directory of directories.directories) {
      const answer = await directory.gateway.verify(normalized, password);
      if (answer.ok) return { outcome: 'directory', directory, identity: answer };
      if (answer.reason === 'unavailable') unavailableCount += 1;
    }
    return unavailableCount === directories.directories.length ? { outcome: 'unavailable' } : { outcome: 'invalid' };
  }

  async function directorySignIn({ directory, identity }: Extract<Verified, { outcome: 'directory' }>): Promise<SignedIn> {
    const signedIn = await directories!.signIn(directory.config, identity);
    return signedIn.outcome === 'success' ? { outcome: 'success', user: signedIn.user, method: directory.config.id } : signedIn;
  }
}

function throttled(refusal: Refusal, retryAfterMs: number): AuthenticationResult {
  return { outcome: 'throttled', refusal, retryAfterSeconds: Math.ceil(retryAfterMs / 1000) };
}
