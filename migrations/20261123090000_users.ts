import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (table) => {
    table.increments('id');
    table.string('username', 100).notNullable().unique();
    table.string('display_name', 200).notNullable();
    table.string('email', 254).notNullable();
    table.string('role', 10).notNullable().checkIn(['user', 'admin', 'it'], 'users_role_check');
    // null until the person picks a language; until then Accept-Language decides.
    table.string('locale', 5).nullable();
    table.string('password_hash', 255).nullable();
    table.boolean('disabled').notNullable().defaultTo(false);
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('updated_at', { useTz: true }).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('users');
}
