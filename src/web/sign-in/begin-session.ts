import type { Request } from 'express';
import type { Database } from '../../db/database.js';
import type { User } from '../../domain/people/users.js';
import type { Clock } from '../../domain/time/clock.js';
import { recordSignIn } from '../../services/people/login-sessions.js';
import { chosenLanguage } from '../middleware/locale.js';
import { regenerateSession } from '../middleware/session.js';

export interface SessionStart {
  user: User;
  /** `password`, or the provider's id. */
  method: string;
  /** Keep the cookie for the absolute timeout instead of ending it with the browser. */
  remember: boolean;
  /** OIDC: the ID token the provider's logout wants back. */
  idToken?: string;
}

export type BeginSession = (request: Request, start: SessionStart) => Promise<void>;

/**
 * Opens the signed-in session, the same way whichever method proved who the person is: a new session
 * id (one planted before sign-in is worthless afterwards), the timeouts' starting points, the
 * person's language, and a record of the sign-in for "Mon compte" (list and end one's sessions).
 */
export function sessionStarter({ db, clock, absoluteHours }: { db: Database; clock: Clock; absoluteHours: number }): BeginSession {
  return async (request, { user, method, remember, idToken }) => {
    const chosenLocale = chosenLanguage(request);
    await regenerateSession(request);
    const now = clock.now().getTime();
    request.session.userId = user.id;
    request.session.sessionVersion = user.sessionVersion;
    request.session.authenticatedAt = now;
    request.session.lastSeenAt = now;
    request.session.signInMethod = method;
    if (idToken) request.session.idToken = idToken;
    // The cookie ends with the browser (a shared computer), unless the person asked to stay signed in.
    if (remember) request.session.cookie.maxAge = absoluteHours * 3_600_000;
    const locale = user.locale ?? chosenLocale;
    if (locale) request.session.locale = locale;
    await recordSignIn(db, { sid: request.sessionID, userId: user.id, method, userAgent: request.get('user-agent') }, new Date(now));
  };
}
