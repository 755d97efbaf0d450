import type { Knex } from 'knex';

/**
 * The audit log and the stored documents stay append-only, with one exception each: a row may be
 * deleted once it is older than a floor written here, in the database, so that neither a bug nor a
 * wrong setting can erase a recent one. The retention job chooses when, at or past the floor
 * (README, "Personal data and retention"). Updates stay refused, and TRUNCATE on PostgreSQL.
 * - audit_log: 365 days after the entry (the CNIL's usual period for such traces);
 * - document_files: 10 years after the document was issued (Code de commerce, L123-22); past it the
 *   PDF of a person whose account was anonymised is deleted, and rendered again, without their name,
 *   if ever asked for.
 */
const FLOORS = [
  { table: 'audit_log', days: 365, rowTime: 'OLD.created_at' },
  { table: 'document_files', days: 3653, rowTime: '(SELECT issued_at FROM documents WHERE id = OLD.document_id)' },
] as const;

export async function up(knex: Knex): Promise<void> {
  for (const { table, days, rowTime } of FLOORS) {
    if (knex.client.dialect === 'postgresql') {
      await knex.raw(`DROP TRIGGER ${table}_append_only ON ${table}`);
      await knex.raw(`CREATE TRIGGER ${table}_append_only BEFORE UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${table}_append_only()`);
      await knex.raw(`
        CREATE FUNCTION ${table}_old_rows_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF ${rowTime} < now() - interval '${days} days' THEN RETURN OLD; END IF;
          RAISE EXCEPTION '${table} is append-only: DELETE refused for a row younger than ${days} days';
        END $$`);
      await knex.raw(`CREATE TRIGGER ${table}_old_rows_only BEFORE DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${table}_old_rows_only()`);
    } else {
      // Timestamps are stored as ISO strings (…T…Z), which strftime writes alike: compared as text.
      await knex.raw(`DROP TRIGGER ${table}_no_delete`);
      await knex.raw(
        `CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} WHEN NOT (${rowTime} < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-${days} days')) ` +
          `BEGIN SELECT RAISE(ABORT, '${table} is append-only: DELETE refused for a row younger than ${days} days'); END`,
      );
    }
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const { table } of FLOORS) {
    if (knex.client.dialect === 'postgresql') {
      await knex.raw(`DROP TRIGGER ${table}_old_rows_only ON ${table}`);
      await knex.raw(`DROP FUNCTION ${table}_old_rows_only()`);
      await knex.raw(`DROP TRIGGER ${table}_append_only ON ${table}`);
      await knex.raw(`CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${table}_append_only()`);
    } else {
      await knex.raw(`DROP TRIGGER ${table}_no_delete`);
      await knex.raw(`CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} BEGIN SELECT RAISE(ABORT, '${table} is append-only: DELETE refused'); END`);
    }
  }
}
