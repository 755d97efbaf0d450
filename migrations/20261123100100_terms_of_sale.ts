import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // Every published version is kept: an order stores the version its buyer accepted.
  await knex.schema.createTable('terms_versions', (table) => {
    table.increments('id');
    table.integer('version').notNullable().unique();
    table.text('body_fr').notNullable();
    table.text('body_en').notNullable();
    table.timestamp('published_at', { useTz: true }).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('terms_versions');
}
