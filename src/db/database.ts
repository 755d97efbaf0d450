import { mkdirSync } from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import Client_SQLite3 from 'knex/lib/dialects/sqlite3/index.js';
import Transaction_Sqlite from 'knex/lib/dialects/sqlite3/execution/sqlite-transaction.js';
import type { DatabaseTarget } from '../config.js';

export type Dialect = DatabaseTarget['dialect'];
export type Queryable = Knex | Knex.Transaction;

export interface Database {
  readonly knex: Knex;
  readonly dialect: Dialect;
  /** Runs `work` in one database transaction, retried on PostgreSQL serialization failures and deadlocks. */
  transaction<T>(work: (trx: Knex.Transaction) => Promise<T>): Promise<T>;
  /**
   * Statements sent since the database was opened (`BEGIN` and `COMMIT` included): on SQLite each one
   * holds the only connection, so /metrics and the benchmark show how many a request costs.
   */
  statementCount(): number;
  close(): Promise<void>;
}

/** How long a writer waits for another process's lock on the SQLite file before giving up. */
const SQLITE_BUSY_TIMEOUT_MS = 10_000;
const POSTGRES_RETRYABLE = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 5;

/**
 * knex opens SQLite transactions with a deferred `BEGIN`: a transaction that reads and then writes
 * fails at once with SQLITE_BUSY when another connection holds the write lock, without waiting out
 * busy_timeout. `BEGIN IMMEDIATE` takes the write lock first, so writers queue instead of failing.
 */
class ImmediateSqliteTransaction extends Transaction_Sqlite {
  begin(connection: unknown) {
    return this.query(connection, 'BEGIN IMMEDIATE;');
  }
}

class ImmediateSqliteClient extends Client_SQLite3 {
  override transaction(...args: unknown[]) {
    return new ImmediateSqliteTransaction(...([this, ...args] as never[])) as unknown as Knex.Transaction;
  }
}

export function createDatabase(target: DatabaseTarget, options: { poolMax?: number } = {}): Database {
  const knex = target.dialect === 'sqlite' ? createSqlite(target.filename) : createPostgres(target.connectionString, options.poolMax ?? 10);
  let statements = 0;
  knex.on('query', () => {
    statements += 1;
  });
  return {
    knex,
    dialect: target.dialect,
    statementCount: () => statements,
    transaction: (work) => withRetries(knex, target.dialect, work),
    close: () => knex.destroy(),
  };
}

function createSqlite(filename: string): Knex {
  mkdirSync(path.dirname(filename), { recursive: true });
  return knexFactory({
    client: ImmediateSqliteClient as unknown as typeof Knex.Client,
    connection: { filename },
    useNullAsDefault: true,
    // One connection per process: SQLite has one writer anyway, and this keeps in-process writers in a queue.
    // So inside db.transaction() always query through `trx`: a query on `db.knex` would wait for the
    // connection the transaction holds (until acquireConnectionTimeout).
    pool: {
      min: 1,
      max: 1,
      afterCreate(connection: { exec(sql: string, done: (error: Error | null) => void): void }, done: (error: Error | null, connection: unknown) => void) {
        connection.exec(
          `PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}; PRAGMA synchronous = NORMAL;`,
          (error) => done(error, connection),
        );
      },
    },
    acquireConnectionTimeout: 30_000,
  });
}

function createPostgres(connectionString: string, poolMax: number): Knex {
  return knexFactory({
    client: 'pg',
    connection: { connectionString },
    pool: { min: 0, max: poolMax },
    acquireConnectionTimeout: 30_000,
  });
}

async function withRetries<T>(knex: Knex, dialect: Dialect, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await knex.transaction(work);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (dialect !== 'postgres' || !code || !POSTGRES_RETRYABLE.has(code) || attempt >= MAX_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
    }
  }
}

/** PostgreSQL returns bigint and SUM() as strings; SQLite as numbers. Every integer read goes through here. */
/** Resolves when the database answers a trivial query; rejects with its error otherwise. */
export async function pingDatabase(db: Database): Promise<void> {
  await db.knex.raw('select 1');
}

export function toSafeInteger(value: unknown): number {
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number)) {
    throw new TypeError(`expected an integer from the database, got ${String(value)}`);
  }
  return number;
}

/** Timestamps are written as ISO strings; PostgreSQL reads them back as Date, SQLite as the string. */
export function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'string' || typeof value === 'number') return new Date(value);
  throw new TypeError(`expected a timestamp from the database, got ${String(value)}`);
}

/** A nullable timestamp column: null stays null. */
export const optionalDate = (value: unknown): Date | null => (value == null ? null : toDate(value));

/** A nullable integer column: null stays null. */
export const optionalInteger = (value: unknown): number | null => (value == null ? null : toSafeInteger(value));

export function isUniqueViolation(error: unknown): boolean {
  const { code, message } = error as { code?: string; message?: string };
  return code === '23505' || (code === 'SQLITE_CONSTRAINT' && /UNIQUE/.test(message ?? ''));
}

/** Node's codes for a connection that could not be made or was lost. */
const CONNECTION_LOST = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']);

/**
 * The database could not answer (not: refused the query): PostgreSQL shutting down, starting up or
 * out of connection slots (57P01–57P03, 53300, class 08), a connection refused or lost, or no pooled
 * connection free in time. Worth answering 503 and trying again later, unlike a failed query.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof code === 'string' && (/^(08|57P0[123]$|53300$)/.test(code) || CONNECTION_LOST.has(code))) return true;
  if (name === 'KnexTimeoutError') return true;
  // pg's own words for a socket that closed under a query; knex puts the query's SQL before them.
  return typeof message === 'string' && /Connection terminated unexpectedly|Connection ended unexpectedly|Client has encountered a connection error/.test(message);
}
