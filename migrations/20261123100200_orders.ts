import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('orders', (table) => {
    table.increments('id');
    table.integer('user_id').unsigned().notNullable().references('id').inTable('users');
    table.string('status', 20).notNullable();
    // The offer as it was when ordered: later price changes never touch an order.
    table.string('kind', 20).notNullable();
    table.string('pack_id', 40).nullable();
    table.string('currency', 3).notNullable();
    table.integer('price_cents').notNullable();
    table.integer('net_cents').notNullable();
    table.integer('vat_cents').notNullable();
    table.integer('vat_rate_basis_points').notNullable();
    table.bigInteger('units').notNullable();
    table.bigInteger('bonus_units').notNullable();
    table.integer('terms_version_id').unsigned().notNullable().references('id').inTable('terms_versions');
    table.string('paypal_order_id', 64).nullable().unique();
    table.string('paypal_capture_id', 64).nullable().unique();
    table.string('approval_url', 2000).nullable();
    table.integer('ledger_transaction_id').unsigned().nullable().references('id').inTable('ledger_transactions');
    table.integer('refunded_cents').notNullable().defaultTo(0);
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('updated_at', { useTz: true }).notNullable();
    table.timestamp('paid_at', { useTz: true }).nullable();
    table.index(['user_id', 'id']);
    table.index(['status']);
  });

  await knex.schema.createTable('order_events', (table) => {
    table.increments('id');
    table.integer('order_id').unsigned().notNullable().references('id').inTable('orders');
    table.string('type', 40).notNullable();
    table.string('from_status', 20).nullable();
    table.string('to_status', 20).nullable();
    table.string('detail', 1000).nullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.index(['order_id', 'id']);
  });

  // Webhook deliveries already handled, by PayPal's event id: a redelivery changes nothing.
  await knex.schema.createTable('webhook_events', (table) => {
    table.string('event_id', 100).primary();
    table.string('event_type', 100).notNullable();
    table.integer('order_id').unsigned().nullable().references('id').inTable('orders');
    table.timestamp('received_at', { useTz: true }).notNullable();
  });

  await knex.schema.alterTable('accounts', (table) => {
    // Set when a refund or chargeback took units the person had already spent.
    table.boolean('flagged').notNullable().defaultTo(false);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (table) => {
    table.dropColumn('flagged');
  });
  await knex.schema.dropTable('webhook_events');
  await knex.schema.dropTable('order_events');
  await knex.schema.dropTable('orders');
}
