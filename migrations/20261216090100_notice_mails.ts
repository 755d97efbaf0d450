import type { Knex } from 'knex';

// The outbox also carries notices: plain mails with no document (a low balance, a refund request's
// progress). `notice_kind` names how the text is written (at each attempt, from `notice_params`, in
// `locale`); a mail is either a document's or a notice, never both. Exactly once still comes from
// `send_key`, unique.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('mail_outbox', (table) => {
    table.integer('document_id').unsigned().nullable().alter();
    table.string('notice_kind', 60).nullable();
    table.text('notice_params').nullable();
    table.string('locale', 5).nullable();
  });
  // PostgreSQL only: SQLite cannot drop a CHECK again (its rebuild keeps one naming a dropped column).
  if (knex.client.dialect !== 'postgresql') return;
  await knex.schema.alterTable('mail_outbox', (table) => {
    table.check('(document_id IS NULL) <> (notice_kind IS NULL)', [], 'mail_outbox_document_or_notice');
    table.check('notice_kind IS NULL OR (notice_params IS NOT NULL AND locale IS NOT NULL)', [], 'mail_outbox_notice_complete');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex('mail_outbox').whereNotNull('notice_kind').del();
  if (knex.client.dialect === 'postgresql') {
    await knex.schema.alterTable('mail_outbox', (table) => table.dropChecks(['mail_outbox_document_or_notice', 'mail_outbox_notice_complete']));
  }
  await knex.schema.alterTable('mail_outbox', (table) => {
    table.dropColumn('locale');
    table.dropColumn('notice_params');
    table.dropColumn('notice_kind');
    table.integer('document_id').unsigned().notNullable().alter();
  });
}
