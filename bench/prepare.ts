import { parseDatabaseUrl } from '../src/config.js';
import { createDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { findPersonAccount, setAccountAllowNegative } from '../src/db/people/people-repository.js';
import { systemClock } from '../src/system-clock.js';
import { createArgon2Hasher } from '../src/domain/people/passwords.js';
import { createUserManagement } from '../src/services/people/user-management.js';

/** The person the API debits go to: their account may go below zero, so any number of debits is accepted. */
export const PRINTER_USERNAME = 'bench-printer';
export const BUYER_PASSWORD = 'bench-buyer-password';
export const buyerUsername = (index: number) => `bench-buyer-${index + 1}`;

/**
 * People of the benchmark's own, created before the portal starts (which then adds the demo data):
 * the demo student's account page stays as seeded, however many debits and top-ups the run makes.
 * Letting an account go negative is what an admin does on the person's page; there is no admin yet,
 * so the flag is set directly, without an audit line.
 */
export async function addBenchPeople(databaseUrl: string, buyers: number): Promise<void> {
  const db = createDatabase(parseDatabaseUrl(databaseUrl), { poolMax: 2 });
  try {
    await migrateToLatest(db.knex);
    const users = createUserManagement({ db, hasher: createArgon2Hasher(), clock: systemClock });
    const person = (username: string, password: string | null) =>
      users.addUser({ username, displayName: username, email: `${username}@bench.example`, role: 'user', locale: 'en', password });
    const printer = await person(PRINTER_USERNAME, null);
    const account = await findPersonAccount(db.knex, printer.id);
    if (!account) throw new Error(`${PRINTER_USERNAME} has no account`);
    await setAccountAllowNegative(db.knex, account.id, true);
    for (let index = 0; index < buyers; index += 1) await person(buyerUsername(index), BUYER_PASSWORD);
  } finally {
    await db.close();
  }
}
