import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // The admin's orders list narrows by day of creation.
  await knex.schema.alterTable('orders', (table) => {
    table.index(['created_at'], 'orders_created_at_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('orders', (table) => {
    table.dropIndex(['created_at'], 'orders_created_at_index');
  });
}
