import type { RequestHandler } from 'express';
import session from 'express-session';
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

export function sessions(config: Config, db: Database): RequestHandler {
  return session({
    name: sessionCookieName(config),
    secret: config.session.secret,
    store: new ConnectSessionKnexStore({ knex: db.knex, tableName: 'sessions', createTable: false, cleanupInterval: 15 * 60_000 }),
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
