import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // A person's second factors, each named by them: a passkey (WebAuthn credential: its id, public key
  // and signature counter) or a TOTP app (its secret, encrypted with SECOND_FACTOR_KEY, and the last
  // time step accepted, so that a code is never accepted twice).
  await knex.schema.createTable('second_factors', (table) => {
    table.increments('id');
    table.integer('user_id').unsigned().notNullable().references('id').inTable('users').onDelete('CASCADE');
    table.string('kind', 16).notNullable();
    table.string('name', 60).notNullable();
    table.string('credential_id', 1400).nullable().unique();
    table.text('public_key').nullable();
    table.bigInteger('sign_count').notNullable().defaultTo(0);
    table.string('transports', 200).nullable();
    table.text('totp_secret').nullable();
    table.bigInteger('totp_last_step').notNullable().defaultTo(0);
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('last_used_at', { useTz: true }).nullable();
    table.unique(['user_id', 'name']);
    table.check("(?? = 'passkey' and ?? is not null and ?? is not null) or (?? = 'totp' and ?? is not null)", ['kind', 'credential_id', 'public_key', 'kind', 'totp_secret'], 'second_factors_kind_check');
  });

  // Single-use recovery codes, as SHA-256 hashes only (each is 50 random bits: no dictionary to try).
  await knex.schema.createTable('recovery_codes', (table) => {
    table.increments('id');
    table.integer('user_id').unsigned().notNullable().references('id').inTable('users').onDelete('CASCADE');
    table.string('code_hash', 64).notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('used_at', { useTz: true }).nullable();
    table.unique(['user_id', 'code_hash']);
  });

  // Wrong second-factor codes, counted per person like passwords (db/attempt-counters.ts).
  await knex.schema.createTable('second_factor_attempts', (table) => {
    table.increments('id');
    table.string('key', 200).notNullable();
    table.bigInteger('attempted_at').notNullable();
    table.index(['key', 'attempted_at']);
    table.index(['attempted_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('second_factor_attempts');
  await knex.schema.dropTable('recovery_codes');
  await knex.schema.dropTable('second_factors');
}
