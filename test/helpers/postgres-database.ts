import { randomBytes } from 'node:crypto';
import knexFactory from 'knex';

export interface EmptyPostgresDatabase {
  /** The server's URL with the new database's name in its path. */
  url: string;
  drop(): Promise<void>;
}

/** A new, empty database named `<prefix>_<random>` on the PostgreSQL server at `serverUrl` (tests and benchmarks). */
export async function createEmptyPostgresDatabase(serverUrl: string, prefix: string): Promise<EmptyPostgresDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = knexFactory({ client: 'pg', connection: serverUrl, pool: { min: 0, max: 1 } });
  await admin.raw(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.raw(`DROP DATABASE ${name} WITH (FORCE)`);
      await admin.destroy();
    },
  };
}
