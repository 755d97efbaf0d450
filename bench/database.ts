import { createEmptyPostgresDatabase } from '../test/helpers/postgres-database.js';

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
  const database = await createEmptyPostgresDatabase(serverUrl, 'recharge_bench');
  return { url: database.url, dialect: 'postgres', cleanup: () => database.drop() };
}
