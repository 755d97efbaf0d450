import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // One row: the settings every price derives from (see src/domain/pricing.ts).
  await knex.schema.createTable('price_settings', (table) => {
    table.integer('id').primary();
    table.string('currency', 3).notNullable();
    table.integer('vat_rate_basis_points').notNullable();
    table.integer('unit_price_cents').notNullable();
    table.boolean('free_amount_enabled').notNullable();
    table.integer('free_amount_min_cents').notNullable();
    table.integer('free_amount_max_cents').notNullable();
    table.integer('free_amount_step_cents').notNullable();
    table.check('?? = 1', ['id'], 'price_settings_single_row');
  });
  await knex('price_settings').insert({
    id: 1,
    currency: 'EUR',
    vat_rate_basis_points: 2000,
    unit_price_cents: 100,
    free_amount_enabled: false,
    free_amount_min_cents: 200,
    free_amount_max_cents: 15000,
    free_amount_step_cents: 50,
  });

  await knex.schema.createTable('packs', (table) => {
    table.string('id', 40).primary();
    table.integer('position').notNullable();
    table.integer('price_cents').notNullable();
    table.bigInteger('units').notNullable();
    table.bigInteger('bonus_units').notNullable();
    table.boolean('enabled').notNullable();
    table.timestamp('valid_from', { useTz: true }).nullable();
    table.timestamp('valid_until', { useTz: true }).nullable();
  });

  await knex.schema.createTable('bonus_tiers', (table) => {
    table.increments('id');
    table.integer('min_cents').notNullable();
    table.integer('bonus_basis_points').notNullable();
    table.timestamp('valid_from', { useTz: true }).nullable();
    table.timestamp('valid_until', { useTz: true }).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('bonus_tiers');
  await knex.schema.dropTable('packs');
  await knex.schema.dropTable('price_settings');
}
