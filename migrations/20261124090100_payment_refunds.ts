import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // Completed refunds as PayPal reported them, one row each (PayPal's refund id): what accountants
  // need (amount, VAT) next to the ledger transaction that took the units back.
  await knex.schema.createTable('payment_refunds', (table) => {
    table.string('refund_id', 64).primary();
    table.integer('order_id').unsigned().notNullable().references('id').inTable('orders');
    table.string('currency', 3).notNullable();
    table.integer('amount_cents').notNullable();
    table.integer('net_cents').notNullable();
    table.integer('vat_cents').notNullable();
    table.integer('ledger_transaction_id').unsigned().nullable().references('id').inTable('ledger_transactions');
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.index(['order_id']);
    table.index(['created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('payment_refunds');
}
