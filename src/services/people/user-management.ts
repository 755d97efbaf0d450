import { recordAudit } from '../../db/audit/audit-repository.js';
import type { Database } from '../../db/database.js';
import { lockPersonAccount, setAccountAllowNegative } from '../../db/people/people-repository.js';
import { deleteLoginSessions, listLoginSessions } from '../../db/people/login-session-repository.js';
import { findUserById, findUserByUsername, insertUser, lockUserByUsername, stripPassword, updateUser, type UserWithPassword } from '../../db/people/user-repository.js';
import type { AuditActor } from '../../domain/audit/audit.js';
import type { Clock } from '../../domain/time/clock.js';
import type { PasswordHasher } from '../../domain/people/passwords.js';
import { normalizeUsername, refuseSelfLockout, UserError, validateNewUser, validatePassword, validateProfile, validateRole, type NewUser, type User } from '../../domain/people/users.js';

export interface UserManagementDependencies {
  db: Database;
  hasher: PasswordHasher;
  clock: Clock;
}

/** The admin who makes a change from the admin pages, or the command line when it audits. */
export type Actor = AuditActor;

/** `unchanged` when the person already was as asked: nothing is written, their sessions go on. */
export type ChangeOutcome = 'changed' | 'unchanged';

/**
 * A person's own password change: the session version their current session takes to stay signed in,
 * or why nothing changed (`wrong_password`: the current password given is not theirs; `no_password`:
 * they sign in through an identity provider only; `session_ended`: their password, role or access
 * changed since the request began, which ended the session asking).
 */
export type OwnPasswordOutcome = { outcome: 'changed'; sessionVersion: number } | { outcome: 'wrong_password' } | { outcome: 'no_password' } | { outcome: 'session_ended' };

interface UserChange {
  columns: Parameters<typeof updateUser>[2];
  action: string;
  before: unknown;
  after: unknown;
}

/** The operations on people shared by the command line, demo data and the admin pages. */
export function createUserManagement({ db, hasher, clock }: UserManagementDependencies) {
  /**
   * Changes the person's locked row as `decide` says. With an actor, an admin cannot lock themself
   * out, and the change is audited in the same database transaction. Any change of password, role or
   * access ends the person's sessions (updateUser moves their session version on).
   */
  function changeUser(username: string, actor: Actor | undefined, decide: (person: UserWithPassword) => UserChange | null): Promise<ChangeOutcome> {
    const now = clock.now();
    return db.transaction(async (trx) => {
      const person = await lockUserByUsername(trx, normalizeUsername(username));
      if (!person) throw new UserError('user_not_found', `no user named ${normalizeUsername(username)}`);
      const change = decide(person);
      if (!change) return 'unchanged';
      if (actor) refuseSelfLockout(actor, person, change.columns);
      await updateUser(trx, person.username, change.columns, now);
      if (actor) await recordAudit(trx, { actor, action: change.action, target: person.username, before: change.before, after: change.after }, now);
      return 'changed';
    });
  }

  return {
    async addUser(input: Parameters<typeof validateNewUser>[0] & { password: string | null }): Promise<User> {
      const user: NewUser = validateNewUser(input);
      const passwordHash = input.password === null ? null : await hasher.hash(validatePassword(input.password));
      return db.transaction((trx) => insertUser(trx, { ...user, passwordHash }, clock.now()));
    },
    /** Hashed before the transaction: argon2 takes a while, and SQLite has one writer. The audit never sees the password. */
    async setPassword(username: string, password: string, actor?: Actor): Promise<ChangeOutcome> {
      const passwordHash = await hasher.hash(validatePassword(password));
      return changeUser(username, actor, (person) => ({
        columns: { passwordHash },
        action: 'person.password',
        before: { passwordSet: person.passwordHash !== null },
        after: { passwordSet: true },
      }));
    },
    /**
     * A person changes their own password ("Mon compte"): the current one proves it is them, not
     * someone at a browser they left signed in. Every other session of theirs ends: the session version
     * moves on, and the sessions recorded at sign-in are deleted from the store. Audited as the person.
     */
    async changeOwnPassword(person: Pick<User, 'id' | 'sessionVersion'>, passwords: { current: string; next: string }, currentSid: string): Promise<OwnPasswordOutcome> {
      const stored = await findUserById(db.knex, person.id);
      if (!stored || stored.sessionVersion !== person.sessionVersion) return { outcome: 'session_ended' };
      if (stored.passwordHash === null) return { outcome: 'no_password' };
      const next = validatePassword(passwords.next);
      if (!(await hasher.verify(stored.passwordHash, passwords.current))) return { outcome: 'wrong_password' };
      const passwordHash = await hasher.hash(next);
      const now = clock.now();
      return db.transaction(async (trx) => {
        // Changed meanwhile (an admin set a password, role or access): the session asking has ended with it.
        const locked = await lockUserByUsername(trx, stored.username);
        if (!locked || locked.sessionVersion !== person.sessionVersion) return { outcome: 'session_ended' };
        await updateUser(trx, locked.username, { passwordHash }, now);
        const others = (await listLoginSessions(trx, locked.id)).filter((session) => session.sid !== currentSid);
        await deleteLoginSessions(trx, others);
        await recordAudit(trx, { actor: { id: locked.id, username: locked.username }, action: 'account.password', target: locked.username, before: { passwordSet: true }, after: { passwordSet: true } }, now);
        const changed = await findUserById(trx, locked.id);
        return { outcome: 'changed', sessionVersion: changed!.sessionVersion };
      });
    },
    /** A person changes the name and e-mail on their receipts ("Mon compte"); their sessions go on. Audited as the person. */
    async updateOwnProfile(person: Pick<User, 'id' | 'username'>, input: { displayName: unknown; email: unknown }): Promise<ChangeOutcome> {
      const profile = validateProfile(input);
      return changeUser(person.username, { id: person.id, username: person.username }, (current) =>
        current.displayName === profile.displayName && current.email === profile.email
          ? null
          : { columns: profile, action: 'account.profile', before: { displayName: current.displayName, email: current.email }, after: profile },
      );
    },
    async setRole(username: string, role: string, actor?: Actor): Promise<ChangeOutcome> {
      const newRole = validateRole(role);
      return changeUser(username, actor, (person) =>
        person.role === newRole ? null : { columns: { role: newRole }, action: 'person.role', before: { role: person.role }, after: { role: newRole } },
      );
    },
    /** A disabled person's sessions stop working at their next request (see web/middleware/authentication.ts). */
    async setDisabled(username: string, disabled: boolean, actor?: Actor): Promise<ChangeOutcome> {
      return changeUser(username, actor, (person) =>
        person.disabled === disabled
          ? null
          : { columns: { disabled }, action: disabled ? 'person.disable' : 'person.enable', before: { disabled: person.disabled }, after: { disabled } },
      );
    },
    /** Lets the person draft and manage quotes at the reprography desk, or not (admins may anyway); their sessions go on. */
    async setQuoteDesk(username: string, allowed: boolean, actor: Actor): Promise<ChangeOutcome> {
      return changeUser(username, actor, (person) =>
        person.quoteDesk === allowed ? null : { columns: { quoteDesk: allowed }, action: 'person.quote_desk', before: { quoteDesk: person.quoteDesk }, after: { quoteDesk: allowed } },
      );
    },
    /** Lets the person's account go below zero, or not; the balance itself is not touched. */
    async setAllowNegative(username: string, allowNegative: boolean, actor: Actor): Promise<ChangeOutcome> {
      const now = clock.now();
      return db.transaction(async (trx) => {
        const person = await lockUserByUsername(trx, normalizeUsername(username));
        const account = person && (await lockPersonAccount(trx, person.id));
        if (!person || !account) throw new UserError('user_not_found', `no user named ${normalizeUsername(username)}`);
        if (account.allowNegative === allowNegative) return 'unchanged';
        await setAccountAllowNegative(trx, account.id, allowNegative);
        await recordAudit(trx, { actor, action: 'person.allow_negative', target: person.username, before: { allowNegative: account.allowNegative }, after: { allowNegative } }, now);
        return 'changed';
      });
    },
    async findUser(username: string): Promise<User | undefined> {
      const user = await findUserByUsername(db.knex, normalizeUsername(username));
      return user && stripPassword(user);
    },
  };
}

export type UserManagement = ReturnType<typeof createUserManagement>;
