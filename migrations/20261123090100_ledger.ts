import type { Knex } from 'knex';

/** System accounts every deployment has; their codes are referenced by the domain (src/domain/ledger.ts). */
const SYSTEM_ACCOUNTS = [
  'system:top-ups',
  'system:bonuses',
  'system:usage:print',
  'system:usage:copy',
  'system:usage:scan',
  'system:usage:fax',
  'system:adjustments',
];

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('accounts', (table) => {
    table.increments('id');
    table.string('code', 100).notNullable().unique();
    table.string('kind', 10).notNullable().checkIn(['user', 'system'], 'accounts_kind_check');
    table.integer('user_id').unsigned().nullable().unique().references('id').inTable('users');
    // Hundredths of a unit; the sum of this account's entries, kept in the same transaction as each entry.
    table.bigInteger('balance').notNullable().defaultTo(0);
    table.boolean('allow_negative').notNullable().defaultTo(false);
    table.timestamp('created_at', { useTz: true }).notNullable();
  });

  await knex.schema.createTable('ledger_transactions', (table) => {
    table.increments('id');
    table.string('idempotency_key', 200).notNullable().unique();
    table.string('kind', 30).notNullable();
    table.string('description', 500).nullable();
    // A transaction is reversed at most once.
    table.integer('reverses_transaction_id').unsigned().nullable().unique().references('id').inTable('ledger_transactions');
    table.integer('created_by').unsigned().nullable().references('id').inTable('users');
    table.timestamp('created_at', { useTz: true }).notNullable();
  });

  await knex.schema.createTable('ledger_entries', (table) => {
    table.increments('id');
    table.integer('transaction_id').unsigned().notNullable().references('id').inTable('ledger_transactions');
    table.integer('account_id').unsigned().notNullable().references('id').inTable('accounts');
    table.bigInteger('amount').notNullable();
    table.bigInteger('balance_after').notNullable();
    table.check('?? <> 0', ['amount'], 'ledger_entries_amount_not_zero');
    table.unique(['transaction_id', 'account_id']);
    table.index(['account_id', 'id']);
  });

  const now = new Date().toISOString();
  await knex('accounts').insert(
    SYSTEM_ACCOUNTS.map((code) => ({ code, kind: 'system', balance: 0, allow_negative: true, created_at: now })),
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('ledger_entries');
  await knex.schema.dropTable('ledger_transactions');
  await knex.schema.dropTable('accounts');
}
