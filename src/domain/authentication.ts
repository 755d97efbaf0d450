import type { Database } from '../db/database.js';
import { updateThrottleStates, type ThrottleChanges } from '../db/login-throttle-repository.js';
import { findUserByUsername, stripPassword } from '../db/user-repository.js';
import type { Clock } from './clock.js';
import { forgiveAttempt, recordFailure, remainingLockMs, type ThrottlePolicy } from './login-throttle.js';
import { createDecoyHash, type PasswordHasher } from './passwords.js';
import { normalizeUsername, type Role, type User } from './users.js';

const PRIVILEGED_ROLES: readonly Role[] = ['admin', 'it'];

export type AuthenticationResult =
  | { outcome: 'success'; user: User }
  | { outcome: 'invalid' }
  | { outcome: 'disabled' }
  | { outcome: 'throttled'; retryAfterSeconds: number };

export interface AuthenticatorDependencies {
  db: Database;
  hasher: PasswordHasher;
  clock: Clock;
  perAccount: ThrottlePolicy;
  /** Replaces perAccount for admin and IT accounts, whose takeover would cost the most. */
  privilegedAccount: ThrottlePolicy;
  perIp: ThrottlePolicy;
}

export type Authenticator = (credentials: { username: string; password: string; ip: string }) => Promise<AuthenticationResult>;

/**
 * Checks a username and password. Each attempt is counted as a failure before the password is checked
 * (and forgiven if it was right), per submitted username (known or not) and per IP, so parallel
 * attempts cannot outrun the limit. An unknown username still costs one argon2 verification. So
 * neither the answer nor its timing tells whether an account exists. "Disabled" is said only to
 * someone who gave the right password.
 */
export function createAuthenticator({ db, hasher, clock, perAccount, privilegedAccount, perIp }: AuthenticatorDependencies): Authenticator {
  const decoyHash = createDecoyHash(hasher);
  void decoyHash(); // computed now, so that the first unknown username is not slower than the rest
  return async ({ username, password, ip }) => {
    const now = clock.now().getTime();
    const normalized = normalizeUsername(username);
    const accountKey = `account:${normalized}`;
    const ipKey = `ip:${ip}`;
    const user = await findUserByUsername(db.knex, normalized);
    const accountPolicy = user && PRIVILEGED_ROLES.includes(user.role) ? privilegedAccount : perAccount;
    const waitMs = await updateThrottleStates(db, [accountKey, ipKey], (states) => {
      const wait = Math.max(remainingLockMs(states.get(accountKey), now), remainingLockMs(states.get(ipKey), now));
      const changes: ThrottleChanges =
        wait > 0
          ? new Map()
          : new Map([
              [accountKey, recordFailure(states.get(accountKey), now, accountPolicy)],
              [ipKey, recordFailure(states.get(ipKey), now, perIp)],
            ]);
      return { result: wait, changes };
    });
    if (waitMs > 0) return { outcome: 'throttled', retryAfterSeconds: Math.ceil(waitMs / 1000) };

    const hash = user?.passwordHash ?? (await decoyHash());
    const matches = (await hasher.verify(hash, password)) && user?.passwordHash != null;
    if (!user || !matches) return { outcome: 'invalid' };

    await updateThrottleStates(db, [accountKey, ipKey], (states) => ({
      result: undefined,
      changes: new Map([
        [accountKey, null],
        [ipKey, forgiveAttempt(states.get(ipKey), perIp) ?? null],
      ]),
    }));
    return user.disabled ? { outcome: 'disabled' } : { outcome: 'success', user: stripPassword(user) };
  };
}
