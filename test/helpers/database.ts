import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createDatabase, type Database } from '../../src/db/database.js';
import { checkLedger } from '../../src/db/ledger/ledger-check.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { createEmptyPostgresDatabase } from './postgres-database.js';

export interface TestDatabase {
  db: Database;
  /** What DATABASE_URL would be for this database (for the CLI and child processes). */
  url: string;
  cleanup(): Promise<void>;
}

/** The dialect the db and integration suites run on: PostgreSQL when TEST_DATABASE_URL is set, else SQLite. */
export const testDialect = process.env.TEST_DATABASE_URL ? 'postgres' : 'sqlite';

/**
 * A new, migrated, empty database: a temporary SQLite file, or a freshly created PostgreSQL database
 * on the TEST_DATABASE_URL server. `cleanup` removes it. `migrated: false` leaves it without tables,
 * for tests of what migrates it.
 */
export async function createTestDatabase({ migrated = true }: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (serverUrl) return createPostgresTestDatabase(serverUrl, migrated);
  const dir = await mkdtemp(path.join(tmpdir(), 'recharge-test-'));
  const filename = path.join(dir, 'recharge.sqlite');
  const db = createDatabase({ dialect: 'sqlite', filename });
  if (migrated) await migrateToLatest(db.knex);
  return {
    db,
    url: `sqlite:${filename}`,
    async cleanup() {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function createPostgresTestDatabase(serverUrl: string, migrated: boolean): Promise<TestDatabase> {
  const database = await createEmptyPostgresDatabase(serverUrl, 'recharge_test');
  const db = createDatabase({ dialect: 'postgres', connectionString: database.url }, { poolMax: 20 });
  if (migrated) await migrateToLatest(db.knex);
  return {
    db,
    url: database.url,
    async cleanup() {
      await db.close();
      await database.drop();
    },
  };
}

/** Double entry holds: every transaction sums to zero, stored balances equal their entries. */
export async function expectLedgerConsistent(db: Database): Promise<void> {
  const report = await checkLedger(db.knex);
  expect(report, JSON.stringify(report)).to.include({ ok: true, total: 0 });
}

/**
 * Documents hold: each series is numbered 1…n without a gap or repeat, its counter at n; a quote's
 * document is its quote's, once, carrying its number; each document has at most one mail of its own,
 * and only quotes' documents have mails sent again.
 */
export async function expectDocumentsConsistent(db: Database): Promise<void> {
  const knex = db.knex;
  for (const { series, last_number: last } of (await knex('document_series').select('series', 'last_number')) as Array<{ series: string; last_number: unknown }>) {
    const numbers = ((await knex('documents').where('kind', series).orderBy('series_number').select('series_number')) as Array<{ series_number: unknown }>).map((row) => Number(row.series_number));
    expect(numbers, `${series} numbers`).to.deep.equal(Array.from({ length: Number(last) }, (_, index) => index + 1));
  }
  const quoteDocuments = (await knex('documents as d').join('quotes as q', 'q.id', 'd.quote_id').select('d.number', 'q.id', 'q.created_at', 'q.status')) as Array<{ number: string; id: unknown; created_at: unknown; status: string }>;
  for (const document of quoteDocuments) {
    expect(document.number).to.match(new RegExp(`^D-\\d{4}-${String(document.id).padStart(6, '0')}$`));
    expect(document.status).not.to.be.oneOf(['draft']);
  }
  expect(new Set(quoteDocuments.map((document) => document.id)).size, 'one document per quote').to.equal(quoteDocuments.length);
  const ownMails = (await knex('mail_outbox').where('send_key', 'like', 'document:%').select('document_id', 'send_key')) as Array<{ document_id: unknown; send_key: string }>;
  for (const mail of ownMails) expect(mail.send_key).to.equal(`document:${String(mail.document_id)}`);
  const resent = (await knex('mail_outbox as m').join('documents as d', 'd.id', 'm.document_id').whereNot('m.send_key', 'like', 'document:%').select('d.kind')) as Array<{ kind: string }>;
  expect(resent.every((mail) => mail.kind === 'quote'), 'only quotes are sent again').to.equal(true);
}
