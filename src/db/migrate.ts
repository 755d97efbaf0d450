import path from 'node:path';
import type { Knex } from 'knex';
import { projectRoot } from '../config.js';
import { runHoldingLock } from './advisory-lock.js';

const migrationConfig: Knex.MigratorConfig = {
  directory: path.join(projectRoot, 'migrations'),
  loadExtensions: ['.ts'],
  tableName: 'knex_migrations',
};

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
