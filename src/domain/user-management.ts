import type { Database } from '../db/database.js';
import { findUserByUsername, insertUser, stripPassword, updateUser } from '../db/user-repository.js';
import type { Clock } from './clock.js';
import type { PasswordHasher } from './passwords.js';
import { normalizeUsername, validateNewUser, validatePassword, validateRole, type NewUser, type User } from './users.js';

export interface UserManagementDependencies {
  db: Database;
  hasher: PasswordHasher;
  clock: Clock;
}

/** The operations on people shared by the command line, demo data and (later) the admin pages. */
export function createUserManagement({ db, hasher, clock }: UserManagementDependencies) {
  return {
    async addUser(input: Parameters<typeof validateNewUser>[0] & { password: string | null }): Promise<User> {
      const user: NewUser = validateNewUser(input);
      const passwordHash = input.password === null ? null : await hasher.hash(validatePassword(input.password));
      return db.transaction((trx) => insertUser(trx, { ...user, passwordHash }, clock.now()));
    },
    async setPassword(username: string, password: string): Promise<void> {
      const passwordHash = await hasher.hash(validatePassword(password));
      await updateUser(db.knex, normalizeUsername(username), { passwordHash }, clock.now());
    },
    async setRole(username: string, role: string): Promise<void> {
      await updateUser(db.knex, normalizeUsername(username), { role: validateRole(role) }, clock.now());
    },
    /** A disabled person's sessions stop working at their next request (see web/middleware/authentication.ts). */
    async setDisabled(username: string, disabled: boolean): Promise<void> {
      await updateUser(db.knex, normalizeUsername(username), { disabled }, clock.now());
    },
    async findUser(username: string): Promise<User | undefined> {
      const user = await findUserByUsername(db.knex, normalizeUsername(username));
      return user && stripPassword(user);
    },
  };
}

export type UserManagement = ReturnType<typeof createUserManagement>;
