import type { User } from './users.js';

/** What the session store keeps of a signed-in session (express-session's `sess`; see web/session-data.ts). */
export interface StoredSessionState {
  userId?: number;
  sessionVersion?: number;
  /** Epoch ms. */
  authenticatedAt?: number;
  /** Epoch ms. */
  lastSeenAt?: number;
}

/** The session store's row behind a sign-in, or null once it is gone (ended, or swept after it expired). */
export interface StoredSession {
  expiresAt: Date;
  state: StoredSessionState;
}

export interface SessionTimeouts {
  idleMs: number;
  absoluteMs: number;
}

/**
 * Whether a stored session still signs its person in, by the rules web/middleware/authentication.ts
 * applies at each request: the store's row has not expired, the person's password, role or access
 * has not changed since (their session version), and, when `timeouts` are given, neither has passed.
 */
export function sessionIsLive(stored: StoredSession | null, person: Pick<User, 'id' | 'sessionVersion'>, now: Date, timeouts?: SessionTimeouts): boolean {
  if (!stored || stored.expiresAt.getTime() <= now.getTime()) return false;
  const { userId, sessionVersion, authenticatedAt, lastSeenAt } = stored.state;
  if (userId !== person.id || (sessionVersion ?? 0) !== person.sessionVersion) return false;
  if (!timeouts) return true;
  const at = now.getTime();
  return at - (authenticatedAt ?? 0) <= timeouts.absoluteMs && at - (lastSeenAt ?? 0) <= timeouts.idleMs;
}
