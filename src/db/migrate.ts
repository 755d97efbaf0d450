import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import { runHoldingLock } from './advisory-lock.js';

/** migrations/ of the same form as this module: the TypeScript sources, or their compiled .js in dist/ (npm run build). */
const MIGRATIONS_DIR = path.resolve(import.meta.dirname, '../../migrations');
const EXTENSION = path.extname(import.meta.filename);

/**
 * knex records each applied migration by name and refuses a database holding a name it cannot find
 * ("The migration directory is corrupt"). Its own source names a migration after its file, extension
 * included, so a database migrated by the compiled build (`…_users.js`) would be refused by the
 * TypeScript toolchain, and the other way round. Here a migration is named `<stem>.ts` in either form:
 * the names every database has recorded since the first migration.
 */
const migrationSource: Knex.MigrationSource<string> = {
  async getMigrations() {
    const files = await readdir(MIGRATIONS_DIR);
    return files
      .filter((file) => path.extname(file) === EXTENSION)
      .map((file) => path.basename(file, EXTENSION))
      .sort();
  },
  getMigrationName: (stem) => `${stem}.ts`,
  async getMigration(stem) {
    const migration = (await import(pathToFileURL(path.join(MIGRATIONS_DIR, `${stem}${EXTENSION}`)).href)) as Knex.Migration & { config?: { transaction?: boolean } };
    // The foreign keys' handling and the stale lock's freeing below hold only if knex runs every migration in its transaction.
    if (migration.config?.transaction === false) throw new Error(`migration ${stem} opts out of knex's transaction, which this portal does not support`);
    return migration;
  },
};

const migrationConfig: Knex.MigratorConfig = { migrationSource, tableName: 'knex_migrations' };

/*
 * Instances started together all migrate. knex queues migrators on its lock row only once its own
 * tables exist: on an empty database two of them race to create knex_migrations and one fails, which
 * stops that instance. So they queue on an advisory lock first: one migrates, the others then find nothing to do.
 */

/** Applies every pending migration; returns the names applied. */
export async function migrateToLatest(knex: Knex): Promise<string[]> {
  const [, applied] = (await migrating(knex, (config) => knex.migrate.latest(config))) as [number, string[]];
  return applied;
}

/** Undoes every applied migration, newest first. */
export async function migrateDownAll(knex: Knex): Promise<string[]> {
  const [, undone] = (await migrating(knex, (config) => knex.migrate.rollback(config, true))) as [number, string[]];
  return undone;
}

const isSqlite = (knex: Knex) => knex.client.dialect !== 'postgresql';

/**
 * Runs knex's migrator holding the portal's migration lock.
 *
 * knex's own lock row stays set when a process dies between taking and freeing it, outside a
 * transaction (as a migration opting out of knex's transaction let an earlier version do), and every
 * later start then fails "Migration table is already locked". It is freed first: no other instance
 * can be migrating: on PostgreSQL each waits here for the advisory lock before it touches knex's
 * lock; SQLite has one instance by design, and knex takes its lock for `migrate` inside the
 * migrations' one transaction (`migrate down`, run with the portal stopped, commits it).
 *
 * On SQLite, rebuilding a table (which SQLite needs to change a column's NULL or a CHECK) needs
 * foreign keys off, and SQLite ignores that pragma inside a transaction: it is set before knex
 * opens one, on the process's one connection (db/database.ts), and `PRAGMA foreign_key_check` must
 * then find every reference whole before the migrations count as done.
 */
async function migrating<T>(knex: Knex, run: (config: Knex.MigratorConfig) => Promise<T>): Promise<T> {
  return runHoldingLock(knex, 'migrations', async () => {
    await knex.migrate.forceFreeMigrationsLock(migrationConfig);
    if (!isSqlite(knex)) return run(migrationConfig);
    await knex.raw('PRAGMA foreign_keys = OFF');
    try {
      return await run({ ...migrationConfig, beforeAll: expectForeignKeysOff, afterAll: expectForeignKeysWhole } as Knex.MigratorConfig);
    } finally {
      await knex.raw('PRAGMA foreign_keys = ON');
    }
  });
}

/** The pragma set on another connection than the migrations' would leave a rebuild to fail half-way or to cascade deletes. */
async function expectForeignKeysOff(knex: Knex | Knex.Transaction): Promise<void> {
  const [setting] = (await knex.raw('PRAGMA foreign_keys')) as Array<{ foreign_keys: number }>;
  if (setting?.foreign_keys !== 0) throw new Error('SQLite foreign keys are still on for the migrations');
}

/**
 * Every reference whole, or nothing applied. Migrating up, knex runs this inside the migrations'
 * transaction, before it commits. Migrating down, knex commits each migration in a transaction of
 * its own and runs this after the last: a broken reference is then reported before foreign keys go
 * back on, with the migrations undone (`migrate down` drops every row anyway).
 */
async function expectForeignKeysWhole(knex: Knex | Knex.Transaction): Promise<void> {
  const broken = (await knex.raw('PRAGMA foreign_key_check')) as unknown[];
  if (broken.length > 0) throw new Error(`migrations left broken references: ${JSON.stringify(broken)}`);
}
