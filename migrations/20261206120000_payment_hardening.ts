import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('orders', (table) => {
    // PayPal refused a capture (INSTRUMENT_DECLINED…): only the buyer approving again may capture it now.
    table.timestamp('capture_declined_at', { useTz: true }).nullable();
    // The reconciler leaves the order alone until then (a declined order is looked up with backoff).
    table.timestamp('next_check_at', { useTz: true }).nullable();
    // When the PayPal order was first asked for: counted for the per-person limit on PayPal orders a minute.
    table.timestamp('payment_started_at', { useTz: true }).nullable();
  });

  // Webhook transmissions answered 2xx, by PAYPAL-TRANSMISSION-ID: the same transmission again, whatever
  // its body, does nothing. Purged once their time is past the freshness window (older ones are refused).
  await knex.schema.createTable('webhook_transmissions', (table) => {
    table.string('transmission_id', 50).primary();
    table.string('event_id', 100).notNullable();
    table.timestamp('transmission_time', { useTz: true }).notNullable().index();
    table.timestamp('received_at', { useTz: true }).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('webhook_transmissions');
  await knex.schema.alterTable('orders', (table) => {
    table.dropColumn('payment_started_at');
    table.dropColumn('next_check_at');
    table.dropColumn('capture_declined_at');
  });
}
