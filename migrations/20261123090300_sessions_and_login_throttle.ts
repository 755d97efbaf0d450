import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // The shape connect-session-knex expects (it is told not to create it itself).
  await knex.schema.createTable('sessions', (table) => {
    table.string('sid', 255).primary();
    table.json('sess').notNullable();
    table.timestamp('expired', { useTz: true }).notNullable().index();
  });

  await knex.schema.createTable('login_throttle', (table) => {
    // "account:<username>" (the login form takes up to 320 characters) or "ip:<address>";
    // usernames that do not exist are throttled alike.
    table.string('key', 400).primary();
    table.integer('failures').notNullable();
    table.bigInteger('window_started_at').notNullable();
    table.bigInteger('locked_until').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('login_throttle');
  await knex.schema.dropTable('sessions');
}
