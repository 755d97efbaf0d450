import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // Bumped by every publication: a draft made from version N is published only while N is current,
  // so an admin cannot overwrite, unknowingly, what another admin published meanwhile.
  await knex.schema.alterTable('price_settings', (table) => {
    table.integer('version').notNullable().defaultTo(0);
  });

  // A price list an admin submitted for preview: publishing takes exactly this one.
  await knex.schema.createTable('price_list_drafts', (table) => {
    table.increments('id');
    table.integer('author_user_id').unsigned().notNullable().references('id').inTable('users');
    table.integer('base_version').notNullable();
    table.text('price_list_json').notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    // The version it became, once published (publishing it again is then a no-op).
    table.integer('published_version').nullable();
    table.index(['created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('price_list_drafts');
  await knex.schema.alterTable('price_settings', (table) => {
    table.dropColumn('version');
  });
}
