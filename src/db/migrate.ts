import path from 'node:path';
import type { Knex } from 'knex';
import { projectRoot } from '../config.js';

const migrationConfig: Knex.MigratorConfig = {
  directory: path.join(projectRoot, 'migrations'),
  loadExtensions: ['.ts'],
  tableName: 'knex_migrations',
};

/** Applies every pending migration; returns the names applied. */
export async function migrateToLatest(knex: Knex): Promise<string[]> {
  const [, applied] = (await knex.migrate.latest(migrationConfig)) as [number, string[]];
  return applied;
}

/** Undoes every applied migration, newest first. */
export async function migrateDownAll(knex: Knex): Promise<string[]> {
  const [, undone] = (await knex.migrate.rollback(migrationConfig, true)) as [number, string[]];
  return undone;
}
