import { randomBytes } from 'node:crypto';
import knexFactory from 'knex';

export interface BenchDatabase {
  /** DATABASE_URL for the portal. */
  url: string;
  dialect: 'sqlite' | 'postgres';
  cleanup(): Promise<void>;
}

/**
 * A fresh, empty database for one run: an SQLite file in the run's folder, or, when
 * BENCH_DATABASE_URL names a PostgreSQL server, a new database on it, dropped at the end.
 */
export async function benchDatabase(workDir: string, serverUrl: string | undefined): Promise<BenchDatabase> {
  if (!serverUrl) return { url: `sqlite:${workDir}/recharge.sqlite`, dialect: 'sqlite', cleanup: async () => {} };
  const name = `recharge_bench_${randomBytes(6).toString('hex')}`;
  const admin = knexFactory({ client: 'pg', connection: serverUrl, pool: { min: 0, max: 1 } });
  await admin.raw(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    dialect: 'postgres',
    async cleanup() {
      await admin.raw(`DROP DATABASE ${name} WITH (FORCE)`);
      await admin.destroy();
    },
  };
}
