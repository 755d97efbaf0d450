import type { StoredSession, StoredSessionState } from '../../domain/people/login-sessions.js';
import { toDate, toSafeInteger, type Queryable } from '../database.js';

/** One sign-in (table login_sessions) with the session store's row behind it (table `sessions`), if it is still there. */
export interface LoginSessionRecord {
  id: number;
  sid: string;
  userId: number;
  /** `password`, or the identity provider's id. */
  method: string;
  userAgent: string | null;
  startedAt: Date;
  stored: StoredSession | null;
}

/** connect-session-knex keeps `sess` as JSON text on SQLite; PostgreSQL's json column reads back as an object. */
function stateOf(sess: unknown): StoredSessionState {
  const state: unknown = typeof sess === 'string' ? JSON.parse(sess) : sess;
  return typeof state === 'object' && state !== null ? (state as StoredSessionState) : {};
}

const toRecord = (row: Record<string, unknown>): LoginSessionRecord => ({
  id: toSafeInteger(row.id),
  sid: String(row.sid),
  userId: toSafeInteger(row.user_id),
  method: String(row.method),
  userAgent: (row.user_agent as string | null) ?? null,
  startedAt: toDate(row.started_at),
  stored: row.expired == null ? null : { expiresAt: toDate(row.expired), state: stateOf(row.sess) },
});

const withStoredSessions = (db: Queryable, userId: number) =>
  db('login_sessions')
    .leftJoin('sessions', 'sessions.sid', 'login_sessions.sid')
    .where('login_sessions.user_id', userId)
    .select('login_sessions.*', 'sessions.sess', 'sessions.expired');

export async function insertLoginSession(db: Queryable, signIn: { sid: string; userId: number; method: string; userAgent: string | null }, now: Date): Promise<void> {
  await db('login_sessions').insert({ sid: signIn.sid, user_id: signIn.userId, method: signIn.method, user_agent: signIn.userAgent, started_at: now.toISOString() });
}

/** The person's sign-ins, newest first. */
export async function listLoginSessions(db: Queryable, userId: number): Promise<LoginSessionRecord[]> {
  const rows = await withStoredSessions(db, userId).orderBy([
    { column: 'login_sessions.started_at', order: 'desc' },
    { column: 'login_sessions.id', order: 'desc' },
  ]);
  return (rows as Array<Record<string, unknown>>).map(toRecord);
}

/** One of the person's sign-ins; undefined when the id is someone else's or nobody's. */
export async function findLoginSession(db: Queryable, userId: number, id: number): Promise<LoginSessionRecord | undefined> {
  const row = (await withStoredSessions(db, userId).andWhere('login_sessions.id', id).first()) as Record<string, unknown> | undefined;
  return row ? toRecord(row) : undefined;
}

/** Forgets these sign-ins and deletes their sessions from the store, which ends them: the store finds nothing for their cookie any more. */
export async function deleteLoginSessions(db: Queryable, sessions: ReadonlyArray<Pick<LoginSessionRecord, 'id' | 'sid'>>): Promise<void> {
  if (sessions.length === 0) return;
  await db('sessions').whereIn('sid', sessions.map((session) => session.sid)).del();
  await db('login_sessions').whereIn('id', sessions.map((session) => session.id)).del();
}
