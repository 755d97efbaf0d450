import { recordAudit } from '../../db/audit/audit-repository.js';
import type { Database, Queryable } from '../../db/database.js';
import { deleteLoginSessions, findLoginSession, insertLoginSession, listLoginSessions, type LoginSessionRecord } from '../../db/people/login-session-repository.js';
import { findUserById } from '../../db/people/user-repository.js';
import { describeDevice, type DeviceDescription } from '../../domain/people/device-description.js';
import { sessionIsLive, type SessionTimeouts } from '../../domain/people/login-sessions.js';
import type { User } from '../../domain/people/users.js';
import type { Clock } from '../../domain/time/clock.js';

/** The column's size: longer User-Agent headers are cut, never refused. */
const USER_AGENT_MAX_LENGTH = 300;

/**
 * A sign-in's own session reaches the store when its answer ends, after recordSignIn: a sign-in this
 * recent with nothing in the store may be one on its way (another browser of the same person), not one
 * that ended.
 */
const STORE_GRACE_MS = 60_000;

/**
 * Records a sign-in (password or identity provider), right after its new session id was made, and
 * forgets the person's sign-ins that ended since (expired, ended, or opened under an older session
 * version), so that the table holds about one row per live session.
 */
export async function recordSignIn(db: Database, signIn: { sid: string; userId: number; method: string; userAgent: string | undefined }, now: Date): Promise<void> {
  await db.transaction(async (trx) => {
    const person = await findUserById(trx, signIn.userId);
    if (!person) return;
    const ended = (await listLoginSessions(trx, person.id)).filter(
      (session) => !sessionIsLive(session.stored, person, now) && (session.stored !== null || now.getTime() - session.startedAt.getTime() > STORE_GRACE_MS),
    );
    await deleteLoginSessions(trx, ended);
    await insertLoginSession(trx, { sid: signIn.sid, userId: person.id, method: signIn.method, userAgent: signIn.userAgent?.slice(0, USER_AGENT_MAX_LENGTH) ?? null }, now);
  });
}

/** A live session as "Mon compte" lists it. */
export interface ActiveSession {
  /** login_sessions.id: what the page names it by (never the session id, which is the cookie's secret). */
  id: number;
  method: string;
  device: DeviceDescription;
  startedAt: Date;
  lastSeenAt: Date | null;
  /** The session of the request that asks. */
  current: boolean;
}

export type EndOutcome = 'ended' | 'already_ended' | 'current' | 'not_found';

type Person = Pick<User, 'id' | 'username' | 'sessionVersion'>;

const actorOf = (person: Person) => ({ id: person.id, username: person.username });

/** A person's own sessions: listed, and ended one by one or all but the one they use. */
export function createLoginSessions({ db, clock, timeouts }: { db: Database; clock: Clock; timeouts: SessionTimeouts }) {
  /** The person's sign-ins split into those still live and those that ended, as of now. */
  async function sessionsOf(trx: Queryable, person: Pick<User, 'id' | 'sessionVersion'>, now: Date) {
    const all = await listLoginSessions(trx, person.id);
    const live = all.filter((session) => sessionIsLive(session.stored, person, now, timeouts));
    return { all, live };
  }

  const present = (session: LoginSessionRecord, currentSid: string): ActiveSession => ({
    id: session.id,
    method: session.method,
    device: describeDevice(session.userAgent),
    startedAt: session.startedAt,
    lastSeenAt: session.stored?.state.lastSeenAt === undefined ? null : new Date(session.stored.state.lastSeenAt),
    current: session.sid === currentSid,
  });

  return {
    /** The person's live sessions, newest first. */
    async list(person: Pick<User, 'id' | 'sessionVersion'>, currentSid: string): Promise<ActiveSession[]> {
      const { live } = await sessionsOf(db.knex, person, clock.now());
      return live.map((session) => present(session, currentSid));
    },

    /**
     * Ends one of the person's sessions, by its login_sessions id; `not_found` when the id is not one
     * of theirs (nothing is ended), `current` for the one they use (logging out ends that one).
     */
    async end(person: Person, id: number, currentSid: string): Promise<EndOutcome> {
      const now = clock.now();
      return db.transaction(async (trx) => {
        const session = await findLoginSession(trx, person.id, id);
        if (!session) return 'not_found';
        if (session.sid === currentSid) return 'current';
        await deleteLoginSessions(trx, [session]);
        if (!sessionIsLive(session.stored, person, now, timeouts)) return 'already_ended';
        const device = describeDevice(session.userAgent);
        await recordAudit(trx, { actor: actorOf(person), action: 'account.session_end', target: person.username, before: { method: session.method, startedAt: session.startedAt.toISOString(), ...device }, after: null }, now);
        return 'ended';
      });
    },

    /** Ends every session of the person but `currentSid`'s; returns how many were still live. */
    async endOthers(person: Person, currentSid: string): Promise<number> {
      const now = clock.now();
      return db.transaction(async (trx) => {
        const { all, live } = await sessionsOf(trx, person, now);
        const others = all.filter((session) => session.sid !== currentSid);
        await deleteLoginSessions(trx, others);
        const ended = live.filter((session) => session.sid !== currentSid).length;
        if (ended > 0) await recordAudit(trx, { actor: actorOf(person), action: 'account.sessions_end_others', target: person.username, before: { otherSessions: ended }, after: { otherSessions: 0 } }, now);
        return ended;
      });
    },
  };
}

export type LoginSessions = ReturnType<typeof createLoginSessions>;
