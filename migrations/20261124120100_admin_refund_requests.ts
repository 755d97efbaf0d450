import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // Refunds an admin asked PayPal for, by the PayPal-Request-Id the form's nonce gave them, written
  // before PayPal is asked: while `pending`, the units the refund will take back are held against the
  // person's balance, so two refunds at once cannot both pass the refund policy; a form sent again
  // finds its refund here instead of asking again. Who and why, next to PayPal's refund id.
  await knex.schema.createTable('admin_refund_requests', (table) => {
    table.string('request_id', 120).primary();
    table.integer('order_id').unsigned().notNullable().references('id').inTable('orders');
    table.string('status', 20).notNullable();
    table.string('refund_id', 64).nullable().unique();
    table.integer('amount_cents').notNullable();
    table.bigInteger('units_reserved').notNullable();
    table.string('reason', 500).notNullable();
    table.integer('requested_by').unsigned().notNullable().references('id').inTable('users');
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('updated_at', { useTz: true }).notNullable();
    table.index(['order_id']);
    table.index(['status']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('admin_refund_requests');
}
