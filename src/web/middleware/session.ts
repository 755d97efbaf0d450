import type { RequestHandler } from 'express';
import session, { type SessionData } from 'express-session';
import { ConnectSessionKnexStore } from 'connect-session-knex';
import type { Config } from '../../config.js';
import type { Database } from '../../db/database.js';
import '../session-data.js';

/**
 * Sessions live in the database (table `sessions`), so they survive restarts and are shared by
 * several instances. The cookie is HttpOnly and SameSite=Lax; behind HTTPS it is also Secure and
 * `__Host-` prefixed (bound to this exact origin). Its lifetime is the absolute timeout; the idle
 * timeout is enforced on the server (see authentication.ts).
 */
export const sessionCookieName = (config: Config) => (config.server.secureCookies ? '__Host-recharge' : 'recharge.sid');

export const sessionCookieOptions = (config: Config) =>
  ({ httpOnly: true, sameSite: 'lax', secure: config.server.secureCookies, path: '/' }) as const;

/**
 * express-session touches the stored session after every request that left it unchanged, to push its
 * expiry back: with this store an UPDATE per page view, awaited before the answer ends (npm run bench:
 * docs/benchmarks.md). Nothing needs it: each save sets the row's expiry a whole absolute timeout
 * ahead, no session outlives its absolute timeout anyway, and a session in use is saved at least once
 * a minute (lastSeenAt, authentication.ts), which is what the idle timeout reads.
 */
class UntouchedSessionStore extends ConnectSessionKnexStore {
  override async touch(_sid: string, _session: SessionData, callback?: () => void): Promise<void> {
    callback?.();
  }
}

export function sessions(config: Config, db: Database): RequestHandler {
  return session({
    name: sessionCookieName(config),
    secret: config.session.secret,
    store: new UntouchedSessionStore({ knex: db.knex, tableName: 'sessions', createTable: false, cleanupInterval: 15 * 60_000 }),
    resave: false,
    saveUninitialized: false,
    cookie: { ...sessionCookieOptions(config), maxAge: config.session.absoluteHours * 3_600_000 },
  });
}

/** express-session's callback API as promises. */
export const regenerateSession = (request: Parameters<RequestHandler>[0]) =>
  new Promise<void>((resolve, reject) => request.session.regenerate((error) => (error ? reject(error) : resolve())));

export const destroySession = (request: Parameters<RequestHandler>[0]) =>
  new Promise<void>((resolve, reject) => request.session.destroy((error) => (error ? reject(error) : resolve())));
