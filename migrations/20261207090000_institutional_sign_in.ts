import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // A person's accounts at identity providers: the provider's stable identifier, never a name or an
  // e-mail alone. One link per (provider, identifier) and one per (person, provider): an account is
  // linked once, at its first sign-in or by an admin.
  await knex.schema.createTable('user_identities', (table) => {
    table.increments('id').primary();
    table.integer('user_id').unsigned().notNullable().references('id').inTable('users').onDelete('CASCADE');
    table.string('provider_id', 40).notNullable();
    table.string('subject', 512).notNullable();
    table.string('linked_by', 100).nullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('last_sign_in_at', { useTz: true }).nullable();
    table.unique(['provider_id', 'subject']);
    table.unique(['user_id', 'provider_id']);
  });

  // Keys a provider's answers may carry once (SAML assertion ids, CAS tickets) and SAML request ids
  // waiting for their answer (`value`): shared by every instance, kept until `expires_at` (epoch ms).
  await knex.schema.createTable('sign_in_keys', (table) => {
    table.string('provider_id', 40).notNullable();
    table.string('key', 300).notNullable();
    table.string('value', 300).nullable();
    table.bigInteger('expires_at').notNullable().index();
    table.primary(['provider_id', 'key']);
  });

  // The sign-ins behind the rows of `sessions`, so a person can list and end theirs (Mon compte).
  await knex.schema.createTable('login_sessions', (table) => {
    table.increments('id').primary();
    table.string('sid', 255).notNullable().unique();
    table.integer('user_id').unsigned().notNullable().references('id').inTable('users').onDelete('CASCADE').index();
    /** `password`, or the identity provider's id. */
    table.string('method', 40).notNullable();
    table.string('user_agent', 300).nullable();
    table.timestamp('started_at', { useTz: true }).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('login_sessions');
  await knex.schema.dropTable('sign_in_keys');
  await knex.schema.dropTable('user_identities');
}
