import type { Knex } from 'knex';

// Rebuilding `orders` on SQLite (to relax user_id) needs foreign keys off, which SQLite ignores inside
// a transaction: db/migrate.ts turns them off before knex's transaction and checks every reference before it commits.

/** The statuses of an order that may still be paid: a quote has at most one such order at a time. */
const OPEN_ORDER_STATUSES = "'created', 'awaiting_payment', 'approved', 'capture_pending'";

const isSqlite = (knex: Knex) => knex.client.dialect !== 'postgresql';

export async function up(trx: Knex): Promise<void> {
  // A quote is paid through an order like a top-up, by a customer who may have no account: the order
  // is then for the quote, not for a person.
  if (isSqlite(trx)) {
    await trx.schema.alterTable('orders', (table) => {
      table.integer('user_id').unsigned().nullable().alter();
    });
  } else {
    await trx.raw('ALTER TABLE orders ALTER COLUMN user_id DROP NOT NULL');
  }
  await trx.schema.alterTable('orders', (table) => {
    table.integer('quote_id').unsigned().nullable().references('id').inTable('quotes');
    table.index(['quote_id']);
  });
  // A top-up's order is a person's; a quote's is its quote's, and nothing else's.
  const subject = "(quote_id is null and user_id is not null) or (quote_id is not null and kind = 'quote')";
  // (SQLite adds no CHECK to an existing table; there the order repository is the only writer of both columns.)
  if (!isSqlite(trx)) await trx.raw(`ALTER TABLE orders ADD CONSTRAINT orders_subject_check CHECK (${subject})`);
  // Two PayPal orders open for one quote could both be approved and captured: the database refuses a
  // second open order, whatever the clicks and instances (SQLite and PostgreSQL both have partial indexes).
  await trx.raw(`CREATE UNIQUE INDEX orders_open_quote_unique ON orders (quote_id) WHERE quote_id IS NOT NULL AND status IN (${OPEN_ORDER_STATUSES})`);

  await trx.schema.alterTable('quotes', (table) => {
    // How many units a person of the portal linked to the quote may pay it with instead; null: not allowed.
    table.bigInteger('units_price').nullable();
    // How the quote was paid: the order (PayPal) or the ledger transaction (units), and when.
    table.integer('paid_order_id').unsigned().nullable().references('id').inTable('orders');
    table.integer('paid_ledger_transaction_id').unsigned().nullable().references('id').inTable('ledger_transactions');
    table.timestamp('paid_at', { useTz: true }).nullable();
    table.integer('refunded_cents').notNullable().defaultTo(0);
  });

  // Units paid for quotes go to this system account (and come back from it when refunded).
  const now = new Date().toISOString();
  await trx('accounts').insert({ code: 'system:quote-payments', kind: 'system', balance: 0, allow_negative: true, created_at: now });
}

/** Undoes it all, refusing while quote payments exist: their orders, events and documents cannot go back to the shape before. */
export async function down(trx: Knex): Promise<void> {
  const paid = await trx('orders').whereNotNull('quote_id').first('id');
  if (paid) throw new Error('orders for quotes exist: undoing this migration would lose them');
  await trx('accounts').where('code', 'system:quote-payments').del();
  await trx.schema.alterTable('quotes', (table) => {
    table.dropColumn('refunded_cents');
    table.dropColumn('paid_at');
    table.dropColumn('paid_ledger_transaction_id');
    table.dropColumn('paid_order_id');
    table.dropColumn('units_price');
  });
  await trx.raw('DROP INDEX orders_open_quote_unique');
  if (!isSqlite(trx)) await trx.raw('ALTER TABLE orders DROP CONSTRAINT orders_subject_check');
  await trx.schema.alterTable('orders', (table) => {
    table.dropIndex(['quote_id']);
    table.dropForeign(['quote_id']);
  });
  await trx.schema.alterTable('orders', (table) => table.dropColumn('quote_id'));
  if (isSqlite(trx)) {
    await trx.schema.alterTable('orders', (table) => {
      table.integer('user_id').unsigned().notNullable().alter();
    });
  } else {
    await trx.raw('ALTER TABLE orders ALTER COLUMN user_id SET NOT NULL');
  }
}
