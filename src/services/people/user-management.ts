import { recordAudit } from '../../db/audit/audit-repository.js';
import type { Database } from '../../db/database.js';
import { lockPersonAccount, setAccountAllowNegative } from '../../db/people/people-repository.js';
import { findUserByUsername, insertUser, lockUserByUsername, stripPassword, updateUser, type UserWithPassword } from '../../db/people/user-repository.js';
import type { AuditActor } from '../../domain/audit/audit.js';
import type { Clock } from '../../domain/time/clock.js';
import type { PasswordHasher } from '../../domain/people/passwords.js';
import { normalizeUsername, refuseSelfLockout, UserError, validateNewUser, validatePassword, validateRole, type NewUser, type User } from '../../domain/people/users.js';

export interface UserManagementDependencies {
  db: Database;
  hasher: PasswordHasher;
  clock: Clock;
}

/** The admin who makes a change from the admin pages, or the command line when it audits. */
export type Actor = AuditActor;

/** `unchanged` when the person already was as asked: nothing is written, their sessions go on. */
export type ChangeOutcome = 'changed' | 'unchanged';

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
