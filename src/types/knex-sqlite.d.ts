// knex ships no types for its dialect internals; we only subclass them (see src/db/database.ts).
declare module 'knex/lib/dialects/sqlite3/index.js' {
  import type { Knex } from 'knex';
  const Client_SQLite3: typeof Knex.Client;
  export default Client_SQLite3;
}

declare module 'knex/lib/dialects/sqlite3/execution/sqlite-transaction.js' {
  const Transaction_Sqlite: new (...args: never[]) => { query(connection: unknown, sql: string): Promise<unknown> };
  export default Transaction_Sqlite;
}
