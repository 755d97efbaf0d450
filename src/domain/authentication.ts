import type { Database } from '../db/database.js';
import { clearThrottleState, loadThrottleStates, saveThrottleState } from '../db/login-throttle-repository.js';
import { findUserByUsername, stripPassword } from '../db/user-repository.js';
import type { Clock } from './clock.js';
import { recordFailure, remainingLockMs, type ThrottlePolicy } from './login-throttle.js';
import { createDecoyHash, type PasswordHasher } from './passwords.js';
import { normalizeUsername, type User } from './users.js';

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
  perIp: ThrottlePolicy;
}

export type Authenticator = (credentials: { username: string; password: string; ip: string }) => Promise<AuthenticationResult>;

/**
 * Checks a username and password. Failures are counted per submitted username (known or not) and per
 * IP; an unknown username still costs one argon2 verification. So neither the answer nor its timing
 * tells whether an account exists. "Disabled" is said only to someone who gave the right password.
 */
export function createAuthenticator({ db, hasher, clock, perAccount, perIp }: AuthenticatorDependencies): Authenticator {
  const decoyHash = createDecoyHash(hasher);
  return async ({ username, password, ip }) => {
    const now = clock.now().getTime();
    const normalized = normalizeUsername(username);
    const accountKey = `account:${normalized}`;
    const ipKey = `ip:${ip}`;
    const states = await loadThrottleStates(db.knex, [accountKey, ipKey]);
    const waitMs = Math.max(remainingLockMs(states.get(accountKey), now), remainingLockMs(states.get(ipKey), now));
    if (waitMs > 0) return { outcome: 'throttled', retryAfterSeconds: Math.ceil(waitMs / 1000) };

    const user = await findUserByUsername(db.knex, normalized);
    const hash = user?.passwordHash ?? (await decoyHash());
    const matches = (await hasher.verify(hash, password)) && user?.passwordHash != null;
    if (!user || !matches) {
      await db.transaction(async (trx) => {
        await saveThrottleState(trx, accountKey, recordFailure(states.get(accountKey), now, perAccount));
        await saveThrottleState(trx, ipKey, recordFailure(states.get(ipKey), now, perIp));
      });
      return { outcome: 'invalid' };
    }
    if (user.disabled) return { outcome: 'disabled' };
    if (states.has(accountKey)) await clearThrottleState(db.knex, accountKey);
    return { outcome: 'success', user: stripPassword(user) };
  };
}
