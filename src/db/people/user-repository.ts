import type { Knex } from 'knex';
import { userAccountCode, type Hundredths } from '../../domain/ledger/ledger.js';
import { UserError, type NewUser, type Role, type User, type UserLocale } from '../../domain/people/users.js';
import { isUniqueViolation, toDate, toSafeInteger, type Queryable } from '../database.js';
import { createAccount } from '../ledger/ledger-repository.js';

export interface UserWithPassword extends User {
  passwordHash: string | null;
}

function toUser(row: Record<string, unknown>): UserWithPassword {
  return {
    id: toSafeInteger(row.id),
    username: String(row.username),
    displayName: String(row.display_name),
    email: String(row.email),
    role: row.role as Role,
    locale: (row.locale as UserLocale | null) ?? null,
    disabled: Boolean(row.disabled),
    quoteDesk: Boolean(row.quote_desk),
    sessionVersion: toSafeInteger(row.session_version),
    createdAt: toDate(row.created_at),
    closedAt: row.closed_at === null || row.closed_at === undefined ? null : toDate(row.closed_at),
    anonymisedAt: row.anonymised_at === null || row.anonymised_at === undefined ? null : toDate(row.anonymised_at),
    passwordHash: (row.password_hash as string | null) ?? null,
  };
}

/** Creates the person and their units account in the caller's transaction. */
export async function insertUser(trx: Knex.Transaction, user: NewUser & { passwordHash: string | null }, now: Date): Promise<User> {
  try {
    const [row] = await trx('users')
      .insert({
        username: user.username,
        display_name: user.displayName,
        email: user.email,
        role: user.role,
        locale: user.locale,
        password_hash: user.passwordHash,
        disabled: false,
        created_at: now.toISOString(),
        updated_at: now.toISOString(),
      })
      .returning('id');
    const id = toSafeInteger((row as { id: unknown }).id);
    await createAccount(trx, { code: userAccountCode(id), kind: 'user', userId: id }, now);
    return stripPassword(await getUser(trx, id));
  } catch (error) {
    if (isUniqueViolation(error)) throw new UserError('username_taken', `username ${user.username} is already taken`);
    throw error;
  }
}

export async function findUserByUsername(db: Queryable, username: string): Promise<UserWithPassword | undefined> {
  const row = await db('users').where('username', username).first();
  return row ? toUser(row) : undefined;
}

/** The person's row, locked until the end of the transaction (PostgreSQL; SQLite has one writer anyway). */
export async function lockUserByUsername(trx: Knex.Transaction, username: string): Promise<UserWithPassword | undefined> {
  const row = await trx('users').where('username', username).forUpdate().first();
  return row ? toUser(row) : undefined;
}

export async function findUserById(db: Queryable, id: number): Promise<UserWithPassword | undefined> {
  const row = await db('users').where('id', id).first();
  return row ? toUser(row) : undefined;
}

/** What a signed-in person's pages show of their units account, read with them at every request. */
export interface SignedInAccount {
  id: number;
  balance: Hundredths;
}

/** The person and their units account (null if they have none), in one statement. */
export async function findUserWithAccount(db: Queryable, id: number): Promise<{ user: UserWithPassword; account: SignedInAccount | null } | undefined> {
  const row: Record<string, unknown> | undefined = await db('users')
    .leftJoin('accounts', 'accounts.user_id', 'users.id')
    .where('users.id', id)
    .first('users.*', { account_id: 'accounts.id', account_balance: 'accounts.balance' });
  if (!row) return undefined;
  return { user: toUser(row), account: row.account_id == null ? null : { id: toSafeInteger(row.account_id), balance: toSafeInteger(row.account_balance) } };
}

async function getUser(db: Queryable, id: number): Promise<UserWithPassword> {
  const user = await findUserById(db, id);
  if (!user) throw new UserError('user_not_found', `user ${id} does not exist`);
  return user;
}

export function stripPassword({ passwordHash: _passwordHash, ...user }: UserWithPassword): User {
  return user;
}

/**
 * Changes one person's row; fails with user_not_found when the username is unknown. A new password,
 * role or access ends the sessions opened before (the session version moves on); name, e-mail and
 * language do not.
 */
export async function updateUser(
  db: Queryable,
  username: string,
  changes: Partial<{ passwordHash: string; role: Role; disabled: boolean; quoteDesk: boolean; locale: UserLocale | null; displayName: string; email: string }>,
  now: Date,
): Promise<void> {
  const columns: Record<string, unknown> = { updated_at: now.toISOString() };
  if (changes.passwordHash !== undefined) columns.password_hash = changes.passwordHash;
  if (changes.role !== undefined) columns.role = changes.role;
  if (changes.disabled !== undefined) columns.disabled = changes.disabled;
  // No new session version: the desk's guard reads the permission at every request.
  if (changes.quoteDesk !== undefined) columns.quote_desk = changes.quoteDesk;
  if (changes.locale !== undefined) columns.locale = changes.locale;
  if (changes.displayName !== undefined) columns.display_name = changes.displayName;
  if (changes.email !== undefined) columns.email = changes.email;
  if (changes.passwordHash !== undefined || changes.role !== undefined || changes.disabled !== undefined) {
    columns.session_version = db.raw('session_version + 1');
  }
  const changed = await db('users').where('username', username).update(columns);
  if (changed === 0) throw new UserError('user_not_found', `no user named ${username}`);
}

/** Ends every session the person has open: a session opened under the old version is refused at its next request. */
export async function endEverySession(db: Queryable, userId: number, now: Date): Promise<void> {
  await db('users').where('id', userId).update({ session_version: db.raw('session_version + 1'), updated_at: now.toISOString() });
}

/** Locks the person's row for the transaction: their factors' changes (second-factor-repository) queue one after the other. */
export async function lockUserRow(trx: Queryable, userId: number): Promise<void> {
  await trx('users').where('id', userId).forUpdate().first('id');
}
