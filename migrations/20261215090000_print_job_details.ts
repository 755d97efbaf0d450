import type { Knex } from 'knex';

// What a print server knows of a job beyond its pages: the printer (its queue), colour and two-sided
// printing, shown in the person's history and on the admin's page of each print server's jobs. Null
// for debits made before, or by servers that do not say.
//
// usage_refusals: a job a print server refused before printing (too few units, account disabled).
// No money moved, so no ledger transaction: the row is what the person's history shows ("refusé :
// crédit insuffisant"). One per reference and key, like debits: a backend that reports the same
// refusal twice records it once.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('usage_debits', (table) => {
    table.string('printer', 100).nullable();
    table.boolean('colour').nullable();
    table.boolean('duplex').nullable();
    // The admin's page of one print server's jobs, newest first.
    table.index(['api_key_id', 'created_at']);
  });
  await knex.schema.createTable('usage_refusals', (table) => {
    table.increments('id');
    table.integer('api_key_id').unsigned().notNullable().references('id').inTable('api_keys');
    table.integer('account_id').unsigned().notNullable().references('id').inTable('accounts');
    table.string('category', 10).notNullable().checkIn(['print', 'copy', 'scan', 'fax'], 'usage_refusals_category_check');
    table.string('reason', 30).notNullable().checkIn(['insufficient_balance', 'account_disabled'], 'usage_refusals_reason_check');
    // What the job would have cost, and the balance the server saw when it refused.
    table.bigInteger('amount').notNullable();
    table.bigInteger('balance_seen').nullable();
    table.integer('pages').nullable();
    table.string('printer', 100).nullable();
    table.boolean('colour').nullable();
    table.boolean('duplex').nullable();
    table.string('reference', 100).notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.check('?? > 0', ['amount'], 'usage_refusals_amount_positive');
    table.check('?? IS NULL OR ?? >= 0', ['pages', 'pages'], 'usage_refusals_pages_not_negative');
    table.unique(['api_key_id', 'reference']);
    table.index(['api_key_id', 'created_at']);
    // The person's history lists their refusals newest first, by period.
    table.index(['account_id', 'created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('usage_refusals');
  await knex.schema.alterTable('usage_debits', (table) => {
    table.dropIndex(['api_key_id', 'created_at']);
    table.dropColumn('duplex');
    table.dropColumn('colour');
    table.dropColumn('printer');
  });
}
