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
  getMigration: (stem) => import(pathToFileURL(path.join(MIGRATIONS_DIR, `${stem}${EXTENSION}`)).href),
};

const migrationConfig: Knex.MigratorConfig = { migrationSource, tableName: 'knex_migrations' };

/*
 * Instances started together all migrate. knex queues migrators on its lock row only once its own
 * tables exist: on an empty database two of them race to create knex_migrations and one fails, which
 * stops that instance. So they queue on an advisory lock first: one migrates, the others then find nothing to do.
 */

/** Applies every pending migration; returns the names applied. */
export async function migrateToLatest(knex: Knex): Promise<string[]> {
  const [, applied] = (await runHoldingLock(knex, 'migrations', () => knex.migrate.latest(migrationConfig))) as [number, string[]];
  return applied;
}

/** Undoes every applied migration, newest first. */
export async function migrateDownAll(knex: Knex): Promise<string[]> {
  const [, undone] = (await runHoldingLock(knex, 'migrations', () => knex.migrate.rollback(migrationConfig, true))) as [number, string[]];
  return undone;
}
