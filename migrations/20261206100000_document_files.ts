import type { Knex } from 'knex';
import { refuseChanges } from './20261124090000_administration.js';

export async function up(knex: Knex): Promise<void> {
  // The portal's look when the document was issued, printed on every rendition of it whatever the look
  // is now. Null on documents issued before it was recorded: their first rendering records it.
  await knex.schema.alterTable('documents', (table) => {
    table.string('brand_name', 200).nullable();
    table.string('brand_colour', 7).nullable();
    // `upload:<id>` or `theme:<path under the themes folder>`.
    table.string('brand_logo', 300).nullable();
  });

  // Each document as rendered, once per language it was asked for, and from then on served as stored:
  // a receipt is a record, not a page drawn anew at each download.
  await knex.schema.createTable('document_files', (table) => {
    table.integer('document_id').unsigned().notNullable().references('id').inTable('documents');
    table.string('locale', 5).notNullable();
    table.binary('pdf').notNullable();
    table.string('sha256', 64).notNullable();
    table.integer('byte_size').notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.primary(['document_id', 'locale']);
  });
  // Nothing rewrites or erases a stored document, not even the database user: a receipt is a legal record.
  await refuseChanges(knex, 'document_files');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('document_files');
  if (knex.client.dialect === 'postgresql') await knex.raw('DROP FUNCTION document_files_append_only()');
  await knex.schema.alterTable('documents', (table) => {
    table.dropColumn('brand_logo');
    table.dropColumn('brand_colour');
    table.dropColumn('brand_name');
  });
}
