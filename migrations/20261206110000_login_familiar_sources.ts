import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // Where each person signed in lately (an IPv4 address or an IPv6 /64, as a SHA-256): attempts from
  // there are not slowed when others hammer the account. Short per person (the domain prunes it).
  await knex.schema.createTable('login_familiar_sources', (table) => {
    table.integer('user_id').unsigned().notNullable().references('id').inTable('users').onDelete('CASCADE');
    table.string('source_sha256', 64).notNullable();
    table.bigInteger('last_signed_in_at').notNullable();
    table.primary(['user_id', 'source_sha256']);
  });
  // Throttle keys are now hashed: the old rows would never be read again. They are counters of minutes.
  await knex('login_throttle').del();
}

export async function down(knex: Knex): Promise<void> {
  await knex('login_throttle').del();
  await knex.schema.dropTable('login_familiar_sources');
}
