import type { Knex } from 'knex';

// Triggers have no knex builder: the audit log is append-only like the ledger (so are stored documents, 20261206100000).
export async function refuseChanges(knex: Knex, table: string): Promise<void> {
  if (knex.client.dialect === 'postgresql') {
    await knex.raw(`
      CREATE FUNCTION ${table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '${table} is append-only: % refused', TG_OP;
      END $$`);
    await knex.raw(`CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${table}_append_only()`);
    await knex.raw(`CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION ${table}_append_only()`);
    return;
  }
  for (const operation of ['UPDATE', 'DELETE']) {
    await knex.raw(`CREATE TRIGGER ${table}_no_${operation.toLowerCase()} BEFORE ${operation} ON ${table} BEGIN SELECT RAISE(ABORT, '${table} is append-only: ${operation} refused'); END`);
  }
}

export async function up(knex: Knex): Promise<void> {
  // Who did what, when, with the state before and after (JSON): every admin and IT action.
  await knex.schema.createTable('audit_log', (table) => {
    table.increments('id');
    table.integer('actor_user_id').unsigned().nullable().references('id').inTable('users');
    table.string('actor_username', 100).notNullable();
    table.string('action', 60).notNullable();
    table.string('target', 200).nullable();
    table.text('before_json').nullable();
    table.text('after_json').nullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.index(['created_at']);
  });
  await refuseChanges(knex, 'audit_log');

  await knex.schema.alterTable('users', (table) => {
    // Bumped when a password, role or access changes: sessions opened before stop working.
    table.integer('session_version').notNullable().defaultTo(0);
  });

  // Portal-wide settings admins change, by key (values are validated by the domain).
  await knex.schema.createTable('portal_settings', (table) => {
    table.string('key', 60).primary();
    table.string('value', 200).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('portal_settings');
  await knex.schema.alterTable('users', (table) => {
    table.dropColumn('session_version');
  });
  if (knex.client.dialect === 'postgresql') {
    await knex.raw('DROP TABLE audit_log');
    await knex.raw('DROP FUNCTION audit_log_append_only()');
  } else {
    await knex.schema.dropTable('audit_log');
  }
}
