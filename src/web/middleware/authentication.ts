import type { RequestHandler } from 'express';
import type { Config } from '../../config.js';
import type { Database } from '../../db/database.js';
import { findUserWithAccount, stripPassword, type SignedInAccount } from '../../services/people/records.js';
import type { Clock } from '../../domain/time/clock.js';
import type { Role } from '../../domain/people/users.js';
import { forbidden } from '../http-error.js';
import { regenerateSession } from './session.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The signed-in person's units account, read with them by loadSessionUser (null: they have none). */
      account?: SignedInAccount | null;
    }
  }
}

/** lastSeenAt is refreshed at most this often, so that browsing does not write the session on every request. */
const LAST_SEEN_RESOLUTION_MS = 60_000;

/**
 * Puts the signed-in person on the request, with their units account (read together, in one
 * statement). The session ends (a new, empty one replaces it) when the idle or absolute timeout has
 * passed, or when the person was removed or disabled, or their password or role changed, since logging in.
 */
export function loadSessionUser({ config, db, clock }: { config: Config; db: Database; clock: Clock }): RequestHandler {
  const idleMs = config.session.idleMinutes * 60_000;
  const absoluteMs = config.session.absoluteHours * 3_600_000;
  return async (request, response, next) => {
    const session = request.session;
    if (session.userId === undefined) return next();
    const now = clock.now().getTime();
    const timedOut = now - (session.authenticatedAt ?? 0) > absoluteMs || now - (session.lastSeenAt ?? 0) > idleMs;
    const signedIn = timedOut ? undefined : await findUserWithAccount(db.knex, session.userId);
    const user = signedIn?.user;
    if (!user || user.disabled || user.sessionVersion !== (session.sessionVersion ?? 0)) {
      // A new, empty session: not stored unless something is put in it (the language is a cookie).
      await regenerateSession(request);
      response.locals.sessionEnded = true;
      return next();
    }
    if (now - (session.lastSeenAt ?? 0) > LAST_SEEN_RESOLUTION_MS) session.lastSeenAt = now;
    request.user = stripPassword(user);
    request.account = signedIn.account;
    response.locals.user = request.user;
    next();
  };
}

export const requireUser: RequestHandler = (request, response, next) => {
  if (request.user) return next();
  response.redirect(303, response.locals.sessionEnded ? '/login?notice=session-expired' : '/login');
};

/** Pages for some roles only: anyone else who is signed in gets 403, visitors are sent to log in. */
export function requireRole(...roles: Role[]): RequestHandler {
  return (request, response, next) => {
    if (!request.user) return requireUser(request, response, next);
    next(roles.includes(request.user.role) ? undefined : forbidden());
  };
}
