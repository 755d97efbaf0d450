import type { Knex } from 'knex';

// A refund the portal asks for carries its request's id as PayPal's invoice_id, and PayPal echoes it
// on the refund. Recorded with the take-back, it ends the request's hold on the person's units in
// the same transaction as the units leave the balance, so no moment counts them twice.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('payment_refunds', (table) => {
    table.string('invoice_id', 127).nullable();
    table.index(['invoice_id'], 'payment_refunds_invoice_id_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('payment_refunds', (table) => {
    table.dropIndex(['invoice_id'], 'payment_refunds_invoice_id_index');
    table.dropColumn('invoice_id');
  });
}
