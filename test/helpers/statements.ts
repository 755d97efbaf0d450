import type { Database } from '../../src/db/database.js';

/**
 * The statements `work` sent to `db` (`BEGIN` and `COMMIT` included), with their SQL, for tests that
 * hold a request or a use case to its count. Nothing else may use the database meanwhile.
 */
export async function countStatements<T>(db: Database, work: () => Promise<T>): Promise<{ result: T; count: number; sql: string[] }> {
  const sql: string[] = [];
  const record = (query: { sql: string }) => sql.push(query.sql);
  db.knex.on('query', record);
  const before = db.statementCount();
  try {
    const result = await work();
    return { result, count: db.statementCount() - before, sql };
  } finally {
    db.knex.off('query', record);
  }
}
