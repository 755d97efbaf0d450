import type { Knex } from 'knex';

// Rebuilding `documents` on SQLite needs foreign keys off, which SQLite ignores inside a transaction:
// db/migrate.ts turns them off before knex's transaction, and checks every reference before it commits.

const DOCUMENT_COLUMNS = [
  'id',
  'kind',
  'source_key',
  'series_number',
  'number',
  'order_id',
  'refund_id',
  'issued_at',
  'locale',
  'buyer_name',
  'buyer_username',
  'buyer_email',
  'seller_name',
  'seller_address',
  'seller_vat_number',
  'seller_email',
  'brand_name',
  'brand_colour',
  'brand_logo',
];

/** A receipt or credit note is for an order; a quote's document for its quote, and for nothing else. */
const SUBJECT_CHECK = "(kind = 'quote' and quote_id is not null and order_id is null) or (kind <> 'quote' and order_id is not null and quote_id is null)";

/**
 * SQLite alters neither a column's NOT NULL nor a CHECK: the table is rebuilt as SQLite documents it
 * (foreign keys off, new table, copy, drop, rename, indexes, foreign_key_check), keeping every row and
 * id. `forQuotes` is the new shape; without it, the shape before (to undo this migration).
 */
async function rebuildSqliteDocuments(trx: Knex, forQuotes: boolean): Promise<void> {
  const kinds = forQuotes ? "'receipt','credit_note','quote'" : "'receipt','credit_note'";
  await trx.raw(`CREATE TABLE documents_rebuilt (
    id integer not null primary key autoincrement,
    kind varchar(20) not null constraint documents_kind_check check (kind in (${kinds})),
    source_key varchar(100) not null,
    series_number integer not null,
    number varchar(20) not null,
    order_id integer ${forQuotes ? 'null' : 'not null'},
    ${forQuotes ? 'quote_id integer null,' : ''}
    refund_id varchar(64) null,
    issued_at datetime not null,
    locale varchar(5) not null,
    buyer_name varchar(200) not null,
    buyer_username varchar(100) not null,
    buyer_email varchar(254) not null,
    seller_name varchar(200) not null,
    seller_address varchar(500) not null,
    seller_vat_number varchar(50) not null,
    seller_email varchar(254) not null,
    brand_name varchar(200) null,
    brand_colour varchar(7) null,
    brand_logo varchar(300) null,
    foreign key(order_id) references orders(id),
    ${forQuotes ? 'foreign key(quote_id) references quotes(id),' : ''}
    foreign key(refund_id) references payment_refunds(refund_id)
    ${forQuotes ? `, constraint documents_subject_check check (${SUBJECT_CHECK})` : ''}
  )`);
  const columns = DOCUMENT_COLUMNS.join(', ');
  await trx.raw(`INSERT INTO documents_rebuilt (${columns}) SELECT ${columns} FROM documents`);
  await trx.raw('DROP TABLE documents');
  await trx.raw('ALTER TABLE documents_rebuilt RENAME TO documents');
  await trx.raw('CREATE UNIQUE INDEX documents_source_key_unique ON documents (source_key)');
  await trx.raw('CREATE UNIQUE INDEX documents_number_unique ON documents (number)');
  await trx.raw('CREATE UNIQUE INDEX documents_kind_series_number_unique ON documents (kind, series_number)');
  await trx.raw('CREATE INDEX documents_order_id_index ON documents (order_id)');
  if (forQuotes) await trx.raw('CREATE INDEX documents_quote_id_index ON documents (quote_id)');
  const broken = (await trx.raw('PRAGMA foreign_key_check')) as unknown[];
  if (broken.length > 0) throw new Error(`documents rebuilt with broken references: ${JSON.stringify(broken)}`);
}

const isSqlite = (knex: Knex) => knex.client.dialect !== 'postgresql';

async function widenPostgresDocuments(trx: Knex): Promise<void> {
  await trx.raw('ALTER TABLE documents ALTER COLUMN order_id DROP NOT NULL');
  await trx.raw('ALTER TABLE documents DROP CONSTRAINT documents_kind_check');
  await trx.raw("ALTER TABLE documents ADD CONSTRAINT documents_kind_check CHECK (kind IN ('receipt', 'credit_note', 'quote'))");
  await trx.schema.alterTable('documents', (table) => {
    table.integer('quote_id').unsigned().nullable().references('id').inTable('quotes');
  });
  await trx.raw(`ALTER TABLE documents ADD CONSTRAINT documents_subject_check CHECK (${SUBJECT_CHECK})`);
  await trx.schema.alterTable('documents', (table) => table.index(['quote_id']));
}

export async function up(trx: Knex): Promise<void> {
  const sqlite = isSqlite(trx);
  // A quote's PDF is a document of the `quote` kind, for its quote rather than an order.
  await (sqlite ? rebuildSqliteDocuments(trx, true) : widenPostgresDocuments(trx));
  await trx('document_series').insert({ series: 'quote', last_number: 0 });

  // The language the customer reads: the quote's PDF and mail are written in it.
  await trx.schema.alterTable('quotes', (table) => {
    table.string('locale', 5).notNullable().defaultTo('fr');
  });

  // A document may now have several mails (a quote sent, then sent again), each once: the key says
  // which. `document:<id>` is the document's own mail, as before; `resend:<quote id>:<nonce>` one
  // "send again" click. Existing mails get their document's key; added nullable, filled, then made
  // required, the key has no default: every insert names its own.
  await trx.schema.alterTable('mail_outbox', (table) => {
    table.string('send_key', 120).nullable();
  });
  await trx('mail_outbox').update({ send_key: trx.raw("'document:' || document_id") });
  await trx.schema.alterTable('mail_outbox', (table) => {
    table.string('send_key', 120).notNullable().alter();
    table.dropUnique(['document_id']);
    table.index(['document_id']);
    table.unique(['send_key']);
  });
}

/**
 * Undoes it all: quotes' mails and documents go (`migrate down` drops every row anyway; a quote's
 * stored PDF, append-only, stops it, as a receipt's would), then the shapes before.
 */
export async function down(trx: Knex): Promise<void> {
  const sqlite = isSqlite(trx);
  const quoteDocuments = trx('documents').where('kind', 'quote').select('id');
  await trx('mail_outbox').whereIn('document_id', quoteDocuments).del();
  await trx('documents').where('kind', 'quote').del();
  await trx('document_series').where('series', 'quote').del();
  await trx.schema.alterTable('mail_outbox', (table) => {
    table.dropUnique(['send_key']);
    table.dropIndex(['document_id']);
    table.unique(['document_id']);
  });
  await trx.schema.alterTable('mail_outbox', (table) => table.dropColumn('send_key'));
  await trx.schema.alterTable('quotes', (table) => table.dropColumn('locale'));
  if (sqlite) return rebuildSqliteDocuments(trx, false);
  await trx.raw('ALTER TABLE documents DROP CONSTRAINT documents_subject_check');
  await trx.schema.alterTable('documents', (table) => table.dropColumn('quote_id'));
  await trx.raw('ALTER TABLE documents DROP CONSTRAINT documents_kind_check');
  await trx.raw("ALTER TABLE documents ADD CONSTRAINT documents_kind_check CHECK (kind IN ('receipt', 'credit_note'))");
  await trx.raw('ALTER TABLE documents ALTER COLUMN order_id SET NOT NULL');
}
