import type { Knex } from 'knex';

// Reports read by date range page after page (keyset on time then id) and join postings to their
// orders and refunds: without these, each page of an export would scan the whole ledger. The audit
// page filters by action and lists the actions present.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('ledger_transactions', (table) => {
    table.index(['created_at', 'id'], 'ledger_transactions_created_at_id_index');
  });
  await knex.schema.alterTable('orders', (table) => {
    table.index(['paid_at', 'id'], 'orders_paid_at_id_index');
    table.index(['ledger_transaction_id'], 'orders_ledger_transaction_id_index');
  });
  await knex.schema.alterTable('payment_refunds', (table) => {
    table.index(['ledger_transaction_id'], 'payment_refunds_ledger_transaction_id_index');
  });
  await knex.schema.alterTable('audit_log', (table) => {
    table.index(['action', 'id'], 'audit_log_action_id_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('audit_log', (table) => {
    table.dropIndex(['action', 'id'], 'audit_log_action_id_index');
  });
  await knex.schema.alterTable('payment_refunds', (table) => {
    table.dropIndex(['ledger_transaction_id'], 'payment_refunds_ledger_transaction_id_index');
  });
  await knex.schema.alterTable('orders', (table) => {
    table.dropIndex(['ledger_transaction_id'], 'orders_ledger_transaction_id_index');
    table.dropIndex(['paid_at', 'id'], 'orders_paid_at_id_index');
  });
  await knex.schema.alterTable('ledger_transactions', (table) => {
    table.dropIndex(['created_at', 'id'], 'ledger_transactions_created_at_id_index');
  });
}
