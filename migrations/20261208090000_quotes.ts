import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // The reprography desk: who may draft and manage quotes besides admins.
  await knex.schema.alterTable('users', (table) => {
    table.boolean('quote_desk').notNullable().defaultTo(false);
  });

  // Quotes drafted by the desk, paid later by a customer who may have no account. The totals are the
  // server's, cached from the lines; the currency is the price list's when the quote was made.
  await knex.schema.createTable('quotes', (table) => {
    table.increments('id');
    // D-<year>-<id>, the year the portal's day when it was made: written once, in the transaction
    // that inserts the row (null only until then, as the id is in it), and how quotes are looked up.
    table.string('number', 20).nullable().unique();
    table.string('status', 20).notNullable();
    // Bumped by every change: an edit form made from an older version is refused rather than undoing another's edit.
    table.integer('version').notNullable().defaultTo(1);
    table.string('customer_name', 200).notNullable();
    table.string('customer_email', 254).notNullable();
    table.string('delivery_postcode', 16).notNullable();
    table.string('delivery_method', 10).notNullable();
    table.string('delivery_address', 500).notNullable().defaultTo('');
    // A calendar day of the portal's time zone, YYYY-MM-DD: the last day the quote may be paid.
    table.string('valid_until', 10).notNullable();
    table.integer('user_id').unsigned().nullable().references('id').inTable('users');
    // For staff only: never shown to the customer.
    table.string('staff_note', 1000).notNullable().defaultTo('');
    // The number, name and e-mail folded in JavaScript (NFKC, lower case) for the desk's search, so
    // that SQLite and PostgreSQL find the same quotes whatever the accents and case (NFKC may lengthen it: text).
    table.text('search_text').notNullable();
    table.bigInteger('total_cents').notNullable();
    table.string('currency', 3).notNullable();
    table.string('created_by', 100).notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('updated_at', { useTz: true }).notNullable();
    table.timestamp('sent_at', { useTz: true }).nullable();
    table.timestamp('cancelled_at', { useTz: true }).nullable();
    table.index(['status', 'id']);
    table.index(['user_id']);
  });

  await knex.schema.createTable('quote_lines', (table) => {
    table.increments('id');
    table.integer('quote_id').unsigned().notNullable().references('id').inTable('quotes');
    table.integer('position').notNullable();
    table.string('description', 300).notNullable();
    table.integer('quantity').notNullable();
    table.integer('unit_price_cents').notNullable();
    table.integer('vat_rate_basis_points').notNullable();
    table.unique(['quote_id', 'position']);
  });

  // The quote's timeline: every move and change, by whom, oldest first.
  await knex.schema.createTable('quote_events', (table) => {
    table.increments('id');
    table.integer('quote_id').unsigned().notNullable().references('id').inTable('quotes');
    table.string('type', 40).notNullable();
    table.string('from_status', 20).nullable();
    table.string('to_status', 20).nullable();
    table.string('detail', 1000).nullable();
    table.string('actor_username', 100).notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.index(['quote_id', 'id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('quote_events');
  await knex.schema.dropTable('quote_lines');
  await knex.schema.dropTable('quotes');
  await knex.schema.alterTable('users', (table) => {
    table.dropColumn('quote_desk');
  });
}
