import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // Failed "Recherche de commande" look-ups, one row per attempt and counter: the quote number's and
  // the address's, as SHA-256 (domain/quotes/quote-lookup.ts). Counted over sliding windows, so each
  // failure is a row with its time (milliseconds); rows older than the longest window are deleted.
  await knex.schema.createTable('quote_lookup_attempts', (table) => {
    table.increments('id').primary();
    table.string('key', 80).notNullable();
    table.bigInteger('attempted_at').notNullable();
    table.index(['key', 'attempted_at']);
    // The purge deletes by age alone.
    table.index(['attempted_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('quote_lookup_attempts');
}
