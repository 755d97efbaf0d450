import type { Request } from 'express';
import type { Database } from '../../db/database.js';
import type { User } from '../../domain/people/users.js';
import { mayEnrolSecondFactor } from '../../domain/second-factors/policy.js';
import type { Clock } from '../../domain/time/clock.js';
import { recordSignIn } from '../../services/people/login-sessions.js';
import { chosenLanguage } from '../middleware/locale.js';
import { SECOND_FACTOR_PATH } from '../middleware/second-factor.js';
import { regenerateSession } from '../middleware/session.js';

export interface SessionStart {
  user: User;
  /** `password`, or the provider's id. */
  method: string;
  /** Keep the cookie for the absolute timeout instead of ending it with the browser. */
  remember: boolean;
  /** OIDC: the ID token the provider's logout wants back. */
  idToken?: string;
  /** Where the person goes once signed in (a path of the portal). */
  returnTo: string;
  /**
   * A second factor was already checked: by the portal (the sign-in's second step), or by the
   * institution's provider, which said so (OIDC amr/acr, SAML AuthnContextClassRef).
   */
  secondFactorChecked?: boolean;
}

/** Signed in, and where to; or waiting for the second factor (nobody is signed in yet). */
export type SessionOutcome = { outcome: 'signed_in'; location: string } | { outcome: 'second_factor'; location: string };

export type BeginSession = (request: Request, start: SessionStart) => Promise<SessionOutcome>;

/**
 * Opens the signed-in session, the same way whichever method proved who the person is: a new session
 * id (one planted before sign-in is worthless afterwards), the timeouts' starting points, the
 * person's language, and a record of the sign-in for "Mon compte" (list and end one's sessions).
 * An admin or IT person with a second factor gets instead a session that only waits for it.
 */
export function sessionStarter({ db, clock, absoluteHours, factorCount }: { db: Database; clock: Clock; absoluteHours: number; factorCount: (userId: number) => Promise<number> }): BeginSession {
  return async (request, { user, method, remember, idToken, returnTo, secondFactorChecked = false }) => {
    const chosenLocale = chosenLanguage(request);
    const waitsForFactor = !secondFactorChecked && mayEnrolSecondFactor(user.role) && (await factorCount(user.id)) > 0;
    await regenerateSession(request);
    const now = clock.now().getTime();
    const locale = user.locale ?? chosenLocale;
    if (locale) request.session.locale = locale;
    if (waitsForFactor) {
      request.session.pendingSignIn = { userId: user.id, sessionVersion: user.sessionVersion, method, remember, ...(idToken ? { idToken } : {}), returnTo, startedAt: now };
      return { outcome: 'second_factor', location: SECOND_FACTOR_PATH };
    }
    request.session.userId = user.id;
    request.session.sessionVersion = user.sessionVersion;
    request.session.authenticatedAt = now;
    request.session.lastSeenAt = now;
    request.session.signInMethod = method;
    if (secondFactorChecked) request.session.secondFactorAt = now;
    if (idToken) request.session.idToken = idToken;
    // The cookie ends with the browser (a shared computer), unless the person asked to stay signed in.
    if (remember) request.session.cookie.maxAge = absoluteHours * 3_600_000;
    await recordSignIn(db, { sid: request.sessionID, userId: user.id, method, userAgent: request.get('user-agent') }, new Date(now));
    return { outcome: 'signed_in', location: returnTo === '/' ? '/account' : returnTo };
  };
}
