import type { Knex } from 'knex';

// A person's low-balance alert: below which balance (hundredths of a unit) a spending that crosses it
// queues one mail. No row: no alert. The ledger's posting reads the threshold in the statement that
// updates the balance (db/ledger/ledger-repository.ts), so an account without an alert costs nothing more.
// `locale`: the language the alert was set in, for a person who never chose one.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('low_balance_alerts', (table) => {
    table.integer('account_id').unsigned().primary().references('id').inTable('accounts');
    table.bigInteger('threshold').notNullable();
    table.string('locale', 5).notNullable();
    table.timestamp('updated_at', { useTz: true }).notNullable();
    table.check('?? > 0', ['threshold'], 'low_balance_alerts_threshold_positive');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('low_balance_alerts');
}
