import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // A CSV import that passed its dry run, kept until an admin confirms it: the confirmation imports
  // exactly these people, once (the status moves from checked to imported in a guarded update).
  await knex.schema.createTable('people_imports', (table) => {
    table.increments('id');
    table.string('status', 10).notNullable().checkIn(['checked', 'imported'], 'people_imports_status_check');
    table.string('file_name', 200).nullable();
    table.text('people_json').notNullable();
    table.integer('people_count').notNullable();
    table.bigInteger('total_units').notNullable();
    table.integer('checked_by').unsigned().notNullable().references('id').inTable('users');
    table.timestamp('checked_at', { useTz: true }).notNullable();
    table.integer('imported_by').unsigned().nullable().references('id').inTable('users');
    table.timestamp('imported_at', { useTz: true }).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('people_imports');
}
