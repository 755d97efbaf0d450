import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // One per print server. Only a SHA-256 of the secret is kept: the secret has 256 random bits, so a
  // fast hash is enough (nothing to brute-force), and it is looked up by that hash.
  await knex.schema.createTable('api_keys', (table) => {
    table.increments('id');
    table.string('name', 100).notNullable();
    // The first characters of the secret, shown to admins to tell keys apart.
    table.string('key_prefix', 16).notNullable();
    table.string('secret_sha256', 64).notNullable().unique();
    table.integer('created_by').unsigned().nullable().references('id').inTable('users');
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('last_used_at', { useTz: true }).nullable();
    table.timestamp('revoked_at', { useTz: true }).nullable();
    table.integer('revoked_by').unsigned().nullable().references('id').inTable('users');
  });

  // A debit a print server made: the ledger transaction says how much and from whom; this row adds
  // what the server knows the job by. Cancelled means the transaction has a reversal.
  await knex.schema.createTable('usage_debits', (table) => {
    table.increments('id');
    table.integer('api_key_id').unsigned().notNullable().references('id').inTable('api_keys');
    table.integer('account_id').unsigned().notNullable().references('id').inTable('accounts');
    table.string('category', 10).notNullable().checkIn(['print', 'copy', 'scan', 'fax'], 'usage_debits_category_check');
    table.bigInteger('amount').notNullable();
    table.integer('pages').nullable();
    table.string('reference', 100).notNullable();
    table.integer('transaction_id').unsigned().notNullable().unique().references('id').inTable('ledger_transactions');
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.check('?? > 0', ['amount'], 'usage_debits_amount_positive');
    table.check('?? IS NULL OR ?? >= 0', ['pages', 'pages'], 'usage_debits_pages_not_negative');
    // The reference a job is cancelled by: one debit per reference and key.
    table.unique(['api_key_id', 'reference']);
  });

  // The Idempotency-Key of every debit: claimed before the work (in_flight), then the response the
  // work produced, saved in the same transaction as the work itself and replayed on a retry.
  await knex.schema.createTable('api_idempotency_keys', (table) => {
    table.increments('id');
    table.integer('api_key_id').unsigned().notNullable().references('id').inTable('api_keys');
    table.string('idempotency_key', 255).notNullable();
    // SHA-256 of the method, the path and the body: the same key with another request is refused.
    table.string('fingerprint', 64).notNullable();
    table.string('state', 10).notNullable().checkIn(['in_flight', 'done'], 'api_idempotency_keys_state_check');
    table.integer('response_status').nullable();
    table.text('response_body').nullable();
    // Who holds an in-flight key, and since when: a holder that died is replaced once the lease is over.
    table.string('lock_token', 32).notNullable();
    table.timestamp('locked_at', { useTz: true }).notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.unique(['api_key_id', 'idempotency_key']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('api_idempotency_keys');
  await knex.schema.dropTable('usage_debits');
  await knex.schema.dropTable('api_keys');
}
