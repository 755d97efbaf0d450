import type { Request } from 'express';
import type { Database } from '../../db/database.js';
import { findUserById, stripPassword } from '../../services/people/records.js';
import type { User } from '../../domain/people/users.js';
import type { Clock } from '../../domain/time/clock.js';
import type { CheckSource } from '../../services/second-factors/second-factors.js';
import type { BeginSession } from './begin-session.js';

/** A sign-in waits this long for its second factor; then the password is asked again. */
export const PENDING_SIGN_IN_MS = 10 * 60_000;

/** Whose factor is checked: a sign-in's (nobody is signed in yet) or a signed-in person's step-up. */
export interface CheckedPerson {
  user: User;
  mode: 'sign-in' | 'step-up';
}

export interface SecondFactorCheck {
  /** The person whose factor this request may check, or null (nobody signed in or waiting, or the wait is over). */
  personOf(request: Request): Promise<CheckedPerson | null>;
  /** Where the check comes from, for the throttle: the address, and the session of a step-up. */
  sourceOf(request: Request, checked: CheckedPerson): CheckSource;
  /** The factor was right: the waiting sign-in opens, or the step-up window restarts. Where the browser goes next (`returnTo`, a checked path, for a step-up). */
  accepted(request: Request, checked: CheckedPerson, returnTo: string): Promise<string>;
}

/** Shared by every kind of factor (codes here, passkeys in web/routes/passkeys.ts). */
export function secondFactorCheck({ db, clock, beginSession }: { db: Database; clock: Clock; beginSession: BeginSession }): SecondFactorCheck {
  return {
    async personOf(request) {
      if (request.user) return { user: request.user, mode: 'step-up' };
      const pending = request.session.pendingSignIn;
      if (!pending) return null;
      const stored = clock.now().getTime() - pending.startedAt < PENDING_SIGN_IN_MS ? await findUserById(db.knex, pending.userId) : undefined;
      // Disabled, or its password or role changed, since the first step: that step is worth nothing now.
      if (!stored || stored.disabled || stored.sessionVersion !== pending.sessionVersion) {
        delete request.session.pendingSignIn;
        return null;
      }
      return { user: stripPassword(stored), mode: 'sign-in' };
    },

    sourceOf: (request, checked) => ({ ip: request.ip ?? 'unknown', ...(checked.mode === 'step-up' ? { session: request.sessionID } : {}) }),

    async accepted(request, checked, returnTo) {
      const pending = request.session.pendingSignIn;
      if (checked.mode === 'sign-in' && pending) {
        const { method, remember, idToken } = pending;
        const started = await beginSession(request, { user: checked.user, method, remember, idToken, returnTo: pending.returnTo, secondFactorChecked: true });
        return started.location;
      }
      request.session.secondFactorAt = clock.now().getTime();
      return returnTo === '/' ? '/account' : returnTo;
    },
  };
}
