import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('orders', (table) => {
    // The language the buyer ordered in: their receipt's language when they never picked one.
    table.string('locale', 5).nullable();
  });

  // One counter per numbered series, moved forward inside the transaction that issues a document:
  // a rolled-back payment gives its number back, so the series has no gaps (a database sequence would).
  await knex.schema.createTable('document_series', (table) => {
    table.string('series', 20).primary();
    table.integer('last_number').notNullable();
  });
  await knex('document_series').insert([
    { series: 'receipt', last_number: 0 },
    { series: 'credit_note', last_number: 0 },
  ]);

  // Receipts and credit notes as issued. Amounts come from the order or the refund (both never change);
  // who sold and who bought are copied here, so a later change of address leaves issued documents alone.
  await knex.schema.createTable('documents', (table) => {
    table.increments('id');
    table.string('kind', 20).notNullable().checkIn(['receipt', 'credit_note'], 'documents_kind_check');
    // What the document is for (`receipt:<order id>`, `credit-note:<refund id>`): issued once, whatever path asks.
    table.string('source_key', 100).notNullable().unique();
    table.integer('series_number').notNullable();
    table.string('number', 20).notNullable().unique();
    table.integer('order_id').unsigned().notNullable().references('id').inTable('orders');
    table.string('refund_id', 64).nullable().references('refund_id').inTable('payment_refunds');
    table.timestamp('issued_at', { useTz: true }).notNullable();
    table.string('locale', 5).notNullable();
    table.string('buyer_name', 200).notNullable();
    table.string('buyer_username', 100).notNullable();
    table.string('buyer_email', 254).notNullable();
    table.string('seller_name', 200).notNullable();
    table.string('seller_address', 500).notNullable();
    table.string('seller_vat_number', 50).notNullable();
    table.string('seller_email', 254).notNullable();
    table.unique(['kind', 'series_number']);
    table.index(['order_id']);
  });

  // The transactional outbox: a mail is queued in the transaction that issues its document, so it is
  // never lost and never queued twice; delivery happens later, outside the payment.
  await knex.schema.createTable('mail_outbox', (table) => {
    table.increments('id');
    table.integer('document_id').unsigned().notNullable().unique().references('id').inTable('documents');
    table.string('recipient', 254).notNullable();
    table.string('status', 12).notNullable().checkIn(['pending', 'sending', 'sent', 'kept', 'failed'], 'mail_outbox_status_check');
    table.integer('attempts').notNullable().defaultTo(0);
    table.timestamp('next_attempt_at', { useTz: true }).notNullable();
    table.timestamp('lease_until', { useTz: true }).nullable();
    table.string('last_error', 1000).nullable();
    // Fixed when queued: a message sent again after a crash carries the same Message-ID.
    table.string('message_id', 200).notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    // Since when delivery has been tried: the give-up deadline counts from here, and an admin's retry resets it.
    table.timestamp('tries_since', { useTz: true }).notNullable();
    table.timestamp('sent_at', { useTz: true }).nullable();
    table.index(['status', 'next_attempt_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('mail_outbox');
  await knex.schema.dropTable('documents');
  await knex.schema.dropTable('document_series');
  await knex.schema.alterTable('orders', (table) => {
    table.dropColumn('locale');
  });
}
