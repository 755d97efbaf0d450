import { parseDatabaseUrl } from '../src/config.js';
import { createDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { findPersonAccount, setAccountAllowNegative } from '../src/db/people/people-repository.js';
import { systemClock } from '../src/system-clock.js';
import { createArgon2Hasher } from '../src/domain/people/passwords.js';
import { createApiKeyManagement } from '../src/services/print-api/api-key-management.js';
import { createUserManagement } from '../src/services/people/user-management.js';
import { insertHistory, longHistory } from './history.js';

/** The password of the benchmark's people who log in (buyers, the person with the long history). */
export const BENCH_PASSWORD = 'bench-password';
export const buyerUsername = (index: number) => `bench-buyer-${index + 1}`;
/** The people the API debits go to, one per connection: their accounts may go below zero, so any number of debits is accepted. */
export const printerUsername = (index: number) => `bench-printer-${index + 1}`;
/** The person whose account holds the long history. */
export const HISTORY_USERNAME = 'bench-history';

export interface BenchPeople {
  buyers: number;
  printers: number;
  /** Entries on HISTORY_USERNAME's account. */
  historyEntries: number;
}

/**
 * People of the benchmark's own, created before the portal starts (which then adds the demo data):
 * the demo student's account page stays as seeded, however many debits and top-ups the run makes.
 * Letting an account go negative is what an admin does on the person's page; there is no admin yet,
 * so the flag is set directly, without an audit line. Returns how long the long history took to write, in seconds.
 */
export async function addBenchPeople(databaseUrl: string, people: BenchPeople): Promise<{ historySeconds: number }> {
  const db = createDatabase(parseDatabaseUrl(databaseUrl), { poolMax: 2 });
  try {
    await migrateToLatest(db.knex);
    const users = createUserManagement({ db, hasher: createArgon2Hasher(), clock: systemClock });
    const person = (username: string, password: string | null) =>
      users.addUser({ username, displayName: username, email: `${username}@bench.example`, role: 'user', locale: 'en', password });
    const accountOf = async (userId: number) => {
      const account = await findPersonAccount(db.knex, userId);
      if (!account) throw new Error(`person ${userId} has no account`);
      return account;
    };
    for (let index = 0; index < people.printers; index += 1) {
      const printer = await person(printerUsername(index), null);
      await setAccountAllowNegative(db.knex, (await accountOf(printer.id)).id, true);
    }
    for (let index = 0; index < people.buyers; index += 1) await person(buyerUsername(index), BENCH_PASSWORD);

    const historyPerson = await person(HISTORY_USERNAME, BENCH_PASSWORD);
    const started = performance.now();
    const account = await accountOf(historyPerson.id);
    const apiKey = await createApiKeyManagement({ db, clock: systemClock }).create({ name: 'Bench history printers', actor: null });
    const events = longHistory(people.historyEntries, new Date());
    await db.transaction((trx) => insertHistory(trx, { accountId: account.id, apiKeyId: apiKey.id, events }));
    return { historySeconds: (performance.now() - started) / 1000 };
  } finally {
    await db.close();
  }
}
