import type { RequestHandler } from 'express';
import session, { type SessionData } from 'express-session';
import { ConnectSessionKnexStore } from 'connect-session-knex';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import type { Database } from '../../db/database.js';
import '../session-data.js';

/**
 * Sessions live in the database (table `sessions`), so they survive restarts and are shared by
 * several instances. The cookie is HttpOnly and SameSite=Lax; behind HTTPS it is also Secure and
 * `__Host-` prefixed (bound to this exact origin). It ends with the browser, or after the absolute
 * timeout for a person who asked to stay signed in; both timeouts are enforced on the server (see
 * authentication.ts). Only signed-in sessions are stored: visitors' forms and language need none
 * (csrf.ts, locale.ts), and `saveUninitialized: false` keeps an untouched session out of the table.
 */
export const sessionCookieName = (config: Config) => (config.server.secureCookies ? '__Host-recharge' : 'recharge.sid');

export const sessionCookieOptions = (config: Config) =>
  ({ httpOnly: true, sameSite: 'lax', secure: config.server.secureCookies, path: '/' }) as const;

/** A sign-in in progress at an identity provider (routes/sign-in.ts), with the session cookie's attributes. */
export const pendingSignInCookieName = (config: Config) => (config.server.secureCookies ? '__Host-recharge-signin' : 'recharge.signin');

/** The device token's cookie (auth.ts), with the session cookie's attributes. */
export const deviceCookieName = (config: Config) => (config.server.secureCookies ? '__Host-recharge-device' : 'recharge.device');

/**
 * connect-session-knex with three changes:
 * - A failed query reaches express-session through the callback only. The library calls back and then
 *   rethrows, and express-session ignores the promise it returns: a failed session query (PostgreSQL
 *   restarting, a lost connection, a missing table) became an unhandled rejection that ended the
 *   process. Through the callback it becomes one error page (503, error-handler.ts).
 * - Nothing is written for a session nobody signed in to, or is signing in to (`set` below).
 * - No "touch". express-session touches the stored session after every request that left it
 *   unchanged, to push its expiry back: with this store an UPDATE per page view, awaited before the
 *   answer ends (npm run bench: docs/benchmarks.md). Nothing needs it: each save sets the row's
 *   expiry ahead (the cookie's lifetime, else a day), no session outlives its timeouts anyway, and a
 *   session in use is saved at least once a minute (lastSeenAt, authentication.ts), which is what the
 *   idle timeout reads.
 */
class PortalSessionStore extends ConnectSessionKnexStore {
  constructor(options: ConstructorParameters<typeof ConnectSessionKnexStore>[0] & { onStartFailure: (error: unknown) => void }) {
    super(options);
    // Its start-up check (the table exists) failing must not be unhandled either: each query then
    // fails and reports it. The library schedules its expiry sweep only after that check succeeded.
    this.ready = this.ready.catch(options.onStartFailure);
  }

  override get(sid: string, callback: (error: unknown, session?: SessionData | null) => void): Promise<SessionData | null> {
    return super.get(sid, noCallback).then(
      (session) => (callback(null, session), session),
      (error: unknown) => (callback(error), null),
    );
  }

  override set(sid: string, session: SessionData, callback?: (error?: unknown) => void): Promise<void> {
    // Only signed-in sessions, and sign-ins waiting for their second factor, are stored. express-session
    // saves a renewed session even when nothing was put in it (a session that timed out is renewed
    // empty): a visitor's row, for nothing.
    if (session.userId === undefined && session.pendingSignIn === undefined) {
      callback?.();
      return Promise.resolve();
    }
    return super.set(sid, session, noCallback).then(
      () => callback?.(),
      (error: unknown) => callback?.(error),
    );
  }

  override destroy(sid: string, callback?: (error?: unknown) => void): Promise<number> {
    return super.destroy(sid, noCallback).then(
      (count) => (callback?.(), count),
      (error: unknown) => (callback?.(error), 0),
    );
  }

  override async touch(_sid: string, _session: SessionData, callback?: () => void): Promise<void> {
    callback?.();
  }
}

const noCallback = () => undefined;

export function sessions(config: Config, db: Database, logger: Logger): RequestHandler {
  return session({
    name: sessionCookieName(config),
    secret: config.session.secret,
    store: new PortalSessionStore({
      knex: db.knex,
      tableName: 'sessions',
      createTable: false,
      cleanupInterval: 15 * 60_000,
      onDbCleanupError: (error) => logger.warn({ err: error }, 'session store: removing expired sessions failed'),
      onStartFailure: (error) => logger.error({ err: error }, 'session store: the sessions table could not be checked; expired sessions are not removed until the portal restarts'),
    }),
    resave: false,
    saveUninitialized: false,
    // No maxAge: the cookie ends with the browser unless the person asks to stay signed in (auth.ts).
    cookie: sessionCookieOptions(config),
  });
}

/** express-session's callback API as promises. */
export const regenerateSession = (request: Parameters<RequestHandler>[0]) =>
  new Promise<void>((resolve, reject) => request.session.regenerate((error) => (error ? reject(error) : resolve())));

export const destroySession = (request: Parameters<RequestHandler>[0]) =>
  new Promise<void>((resolve, reject) => request.session.destroy((error) => (error ? reject(error) : resolve())));
