import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // A batch of top-up codes, with the counters its reports read (kept by each redemption in its own
  // transaction, so that a report never counts the codes). Voiding refuses its unredeemed codes.
  await knex.schema.createTable('voucher_batches', (table) => {
    table.increments('id');
    table.string('name', 100).notNullable();
    table.integer('code_count').notNullable();
    // Each code's value, in hundredths of a unit.
    table.bigInteger('value').notNullable();
    // The last day (portal's time zone, YYYY-MM-DD) its codes may be redeemed.
    table.string('expires_on', 10).notNullable();
    table.integer('created_by').unsigned().notNullable().references('id').inTable('users');
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('voided_at', { useTz: true }).nullable();
    table.integer('voided_by').unsigned().nullable().references('id').inTable('users');
    table.integer('redeemed_count').notNullable().defaultTo(0);
    table.bigInteger('redeemed_units').notNullable().defaultTo(0);
    table.check('?? > 0', ['value'], 'voucher_batches_value_positive');
    table.check('?? > 0', ['code_count'], 'voucher_batches_count_positive');
    table.check('?? >= 0 AND ?? <= ??', ['redeemed_count', 'redeemed_count', 'code_count'], 'voucher_batches_redeemed_within_count');
    table.index(['created_at']);
  });

  // One row per code: only its SHA-256 (the code itself was handed over once, never stored). Redeemed
  // once: the redemption sets redeemed_at, redeemed_by and its ledger transaction together.
  await knex.schema.createTable('voucher_codes', (table) => {
    table.increments('id');
    table.integer('batch_id').unsigned().notNullable().references('id').inTable('voucher_batches');
    table.string('code_sha256', 64).notNullable().unique();
    table.timestamp('redeemed_at', { useTz: true }).nullable();
    table.integer('redeemed_by').unsigned().nullable().references('id').inTable('users');
    table.integer('ledger_transaction_id').unsigned().nullable().unique().references('id').inTable('ledger_transactions');
    // A batch's redemptions, newest first, a page at a time, without reading its unredeemed codes.
    table.index(['batch_id', 'redeemed_at', 'id']);
  });

  // Failed redemptions, one row per attempt and counter (`person:<id>`, `address:<SHA-256>`), counted
  // over sliding windows (domain/vouchers/redemption-limits.ts); rows older than a day are deleted.
  await knex.schema.createTable('voucher_redemption_attempts', (table) => {
    table.increments('id');
    table.string('key', 80).notNullable();
    table.bigInteger('attempted_at').notNullable();
    table.index(['key', 'attempted_at']);
    table.index(['attempted_at']);
  });

  // Units given by codes come from this system account.
  await knex('accounts').insert({ code: 'system:vouchers', kind: 'system', balance: 0, allow_negative: true, created_at: new Date().toISOString() });
}

/** Refused once a code was redeemed: its ledger transaction names the system account. */
export async function down(knex: Knex): Promise<void> {
  const redeemed = await knex('voucher_codes').whereNotNull('ledger_transaction_id').first('id');
  if (redeemed) throw new Error('voucher codes were redeemed: undoing this migration would lose them');
  await knex.schema.dropTable('voucher_redemption_attempts');
  await knex.schema.dropTable('voucher_codes');
  await knex.schema.dropTable('voucher_batches');
  await knex('accounts').where('code', 'system:vouchers').del();
}
