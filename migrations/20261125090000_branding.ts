import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // A logo or favicon IT uploaded, re-encoded: the file lives outside the web root under its id
  // (128 random bits); this row is the only way to it and fixes the Content-Type it is served with.
  await knex.schema.createTable('branding_uploads', (table) => {
    table.string('id', 32).primary();
    table.string('purpose', 10).notNullable().checkIn(['logo', 'favicon'], 'branding_uploads_purpose_check');
    table.string('content_type', 20).notNullable().checkIn(['image/png'], 'branding_uploads_content_type_check');
    table.integer('width').notNullable();
    table.integer('height').notNullable();
    table.integer('byte_size').notNullable();
    table.string('sha256', 64).notNullable();
    table.integer('uploaded_by').unsigned().notNullable().references('id').inTable('users');
    table.timestamp('created_at', { useTz: true }).notNullable();
  });

  // Every look IT saved, never changed afterwards: drafts to preview, versions to publish or restore.
  await knex.schema.createTable('branding_versions', (table) => {
    table.increments('id');
    table.string('theme', 40).notNullable();
    table.text('colours_json').notNullable();
    table.text('messages_json').notNullable();
    table.string('logo_upload_id', 32).nullable().references('id').inTable('branding_uploads');
    table.string('favicon_upload_id', 32).nullable().references('id').inTable('branding_uploads');
    table.integer('created_by').unsigned().notNullable().references('id').inTable('users');
    table.timestamp('created_at', { useTz: true }).notNullable();
  });

  // Which version was live from when: the newest row is the portal's look, and restoring an older
  // version is one more row, so the history is never rewritten.
  await knex.schema.createTable('branding_publications', (table) => {
    table.increments('id');
    table.integer('version_id').unsigned().notNullable().references('id').inTable('branding_versions');
    table.integer('published_by').unsigned().notNullable().references('id').inTable('users');
    table.timestamp('published_at', { useTz: true }).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('branding_publications');
  await knex.schema.dropTable('branding_versions');
  await knex.schema.dropTable('branding_uploads');
}
