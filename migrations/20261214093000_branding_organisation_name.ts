import type { Knex } from 'knex';

// The organisation's name beside the logo, chosen by IT with the rest of a branding version. Null in
// versions saved before it could be chosen: those show their theme folder's name, as they did.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('branding_versions', (table) => {
    table.string('organisation_name', 100).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('branding_versions', (table) => {
    table.dropColumn('organisation_name');
  });
}
