import type { Knex } from 'knex';

const APPEND_ONLY_TABLES = ['ledger_transactions', 'ledger_entries'];

// Triggers have no knex builder; this is the one place with dialect-specific SQL for them.
export async function up(knex: Knex): Promise<void> {
  if (knex.client.dialect === 'postgresql') {
    await knex.raw(`
      CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'ledger is append-only: % on % refused; post a reversing transaction instead', TG_OP, TG_TABLE_NAME;
      END $$`);
    for (const table of APPEND_ONLY_TABLES) {
      await knex.raw(`CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION ledger_append_only()`);
      await knex.raw(`CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()`);
    }
    return;
  }
  for (const table of APPEND_ONLY_TABLES) {
    for (const operation of ['UPDATE', 'DELETE']) {
      await knex.raw(`
        CREATE TRIGGER ${table}_no_${operation.toLowerCase()} BEFORE ${operation} ON ${table}
        BEGIN SELECT RAISE(ABORT, 'ledger is append-only: ${operation} on ${table} refused; post a reversing transaction instead'); END`);
    }
  }
}

export async function down(knex: Knex): Promise<void> {
  if (knex.client.dialect === 'postgresql') {
    for (const table of APPEND_ONLY_TABLES) {
      await knex.raw(`DROP TRIGGER ${table}_append_only ON ${table}`);
      await knex.raw(`DROP TRIGGER ${table}_no_truncate ON ${table}`);
    }
    await knex.raw('DROP FUNCTION ledger_append_only()');
    return;
  }
  for (const table of APPEND_ONLY_TABLES) {
    for (const operation of ['update', 'delete']) await knex.raw(`DROP TRIGGER ${table}_no_${operation}`);
  }
}
