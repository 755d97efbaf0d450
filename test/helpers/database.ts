import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createDatabase, type Database } from '../../src/db/database.js';
import { checkLedger } from '../../src/db/ledger/ledger-check.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { createEmptyPostgresDatabase } from './postgres-database.js';

export interface TestDatabase {
  db: Database;
  /** What DATABASE_URL would be for this database (for the CLI and child processes). */
  url: string;
  cleanup(): Promise<void>;
}

/** The dialect the db and integration suites run on: PostgreSQL when TEST_DATABASE_URL is set, else SQLite. */
export const testDialect = process.env.TEST_DATABASE_URL ? 'postgres' : 'sqlite';

/**
 * A new, migrated, empty database: a temporary SQLite file, or a freshly created PostgreSQL database
 * on the TEST_DATABASE_URL server. `cleanup` removes it. `migrated: false` leaves it without tables,
 * for tests of what migrates it.
 */
export async function createTestDatabase({ migrated = true }: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (serverUrl) return createPostgresTestDatabase(serverUrl, migrated);
  const dir = await mkdtemp(path.join(tmpdir(), 'recharge-test-'));
  const filename = path.join(dir, 'recharge.sqlite');
  const db = createDatabase({ dialect: 'sqlite', filename });
  if (migrated) await migrateToLatest(db.knex);
  return {
    db,
    url: `sqlite:${filename}`,
    async cleanup() {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function createPostgresTestDatabase(serverUrl: string, migrated: boolean): Promise<TestDatabase> {
  const database = await createEmptyPostgresDatabase(serverUrl, 'recharge_test');
  const db = createDatabase({ dialect: 'postgres', connectionString: database.url }, { poolMax: 20 });
  if (migrated) await migrateToLatest(db.knex);
  return {
    db,
    url: database.url,
    async cleanup() {
      await db.close();
      await database.drop();
    },
  };
}

/** Double entry holds: every transaction sums to zero, stored balances equal their entries. */
export async function expectLedgerConsistent(db: Database): Promise<void> {
  const report = await checkLedger(db.knex);
  expect(report, JSON.stringify(report)).to.include({ ok: true, total: 0 });
}
