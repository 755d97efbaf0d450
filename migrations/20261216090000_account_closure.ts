import type { Knex } from 'knex';

// A person may close their account (after a refund of their unused credit, or on leaving) and an admin
// may then anonymise it. `closed_at`: when it was closed (the account is also disabled, so no sign-in
// and no debit); `anonymised_at`: when the person's name, username and e-mail were replaced. The
// ledger keeps its entries (accounting law), but they then lead to no one.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (table) => {
    table.timestamp('closed_at', { useTz: true }).nullable();
    table.timestamp('anonymised_at', { useTz: true }).nullable();
    // PostgreSQL only: SQLite cannot drop a CHECK again (its rebuild keeps one naming a dropped column).
    if (knex.client.dialect === 'postgresql') table.check('anonymised_at IS NULL OR closed_at IS NOT NULL', [], 'users_anonymised_only_closed');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (table) => {
    if (knex.client.dialect === 'postgresql') table.dropChecks('users_anonymised_only_closed');
    table.dropColumn('anonymised_at');
    table.dropColumn('closed_at');
  });
}
