import type { Knex } from 'knex';

// A person's request to be paid back their unused credit (README "Refund of unused credit"), and the
// parts it is paid in, one per top-up: through PayPal (by a PayPal-Request-Id that stays the same on
// every retry, so PayPal refunds it once) or by a bank transfer an admin records. `open_user_id` is
// the person's id while the request is open (requested or approved) and null after: unique, so a
// person has one open request whatever the clicks and instances. `take_back_transaction_id` is the
// one ledger posting (key `credit-refund:<id>`) that took the units back.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('credit_refund_requests', (table) => {
    table.increments('id').primary();
    table.integer('user_id').unsigned().notNullable().references('id').inTable('users');
    table.integer('open_user_id').unsigned().nullable().unique();
    table.string('status', 20).notNullable().checkIn(['requested', 'refused', 'approved', 'completed'], 'credit_refund_requests_status_check');
    table.boolean('close_account').notNullable().defaultTo(false);
    // What the page showed when the person asked; the approval computes again from the balance then.
    table.bigInteger('estimated_cents').notNullable();
    table.string('currency', 3).notNullable();
    table.bigInteger('refunded_units').nullable();
    table.bigInteger('refunded_cents').nullable();
    table.integer('take_back_transaction_id').unsigned().nullable().unique().references('id').inTable('ledger_transactions');
    table.text('refusal_reason').nullable();
    // Null with a decision: the automatic approval.
    table.integer('decided_by').unsigned().nullable().references('id').inTable('users');
    table.timestamp('decided_at', { useTz: true }).nullable();
    table.timestamp('account_closed_at', { useTz: true }).nullable();
    table.timestamp('completed_at', { useTz: true }).nullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('updated_at', { useTz: true }).notNullable();
    table.index(['status', 'created_at']);
    table.index(['user_id']);
  });
  await knex.schema.createTable('credit_refund_parts', (table) => {
    table.increments('id').primary();
    table.integer('request_id').unsigned().notNullable().references('id').inTable('credit_refund_requests');
    table.integer('order_id').unsigned().notNullable().references('id').inTable('orders');
    table.string('method', 10).notNullable().checkIn(['paypal', 'transfer'], 'credit_refund_parts_method_check');
    table.string('status', 20).notNullable().checkIn(['pending', 'refunded', 'awaiting_transfer', 'transferred'], 'credit_refund_parts_status_check');
    table.bigInteger('amount_cents').notNullable();
    table.string('currency', 3).notNullable();
    table.bigInteger('units').notNullable();
    table.bigInteger('bonus_units').notNullable();
    table.string('paypal_request_id', 80).notNullable().unique();
    table.string('refund_id', 64).nullable().unique();
    table.integer('attempts').notNullable().defaultTo(0);
    // The last PayPal attempt: `refused` (definitely not refunded), `unknown`, `not_refunded`; and PayPal's issue.
    table.string('last_outcome', 20).nullable();
    table.text('last_error').nullable();
    table.integer('done_by').unsigned().nullable().references('id').inTable('users');
    table.timestamp('done_at', { useTz: true }).nullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('updated_at', { useTz: true }).notNullable();
    table.unique(['request_id', 'order_id']);
    table.index(['order_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('credit_refund_parts');
  await knex.schema.dropTable('credit_refund_requests');
}
