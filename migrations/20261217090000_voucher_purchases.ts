import type { Knex } from 'knex';

const isPostgres = (knex: Knex) => knex.client.dialect === 'postgresql';
const SUBJECT_BEFORE = "(quote_id is null and user_id is not null) or (quote_id is not null and kind = 'quote')";
/** A top-up is a person's, a quote's payment its quote's, a bought batch's nobody's (its units go to the codes). */
const SUBJECT = `(quote_id is null and user_id is not null and kind in ('pack', 'free_amount')) or (quote_id is not null and kind = 'quote') or (quote_id is null and user_id is null and kind = 'voucher_batch')`;

async function replaceSubjectCheck(knex: Knex, check: string): Promise<void> {
  // (SQLite adds no CHECK to an existing table; there the order repository is the only writer of these columns.)
  if (!isPostgres(knex)) return;
  await knex.raw('ALTER TABLE orders DROP CONSTRAINT orders_subject_check');
  await knex.raw(`ALTER TABLE orders ADD CONSTRAINT orders_subject_check CHECK (${check})`);
}

export async function up(knex: Knex): Promise<void> {
  await replaceSubjectCheck(knex, SUBJECT);
  // The people an admin allows to buy batches of codes by PayPal (a department's secretary…).
  await knex.schema.createTable('voucher_buyers', (table) => {
    table.integer('user_id').unsigned().primary().references('id').inTable('users');
    table.integer('added_by').unsigned().notNullable().references('id').inTable('users');
    table.timestamp('added_at', { useTz: true }).notNullable();
  });

  // A batch bought through checkout: what was asked for, frozen with its order (kind `voucher_batch`,
  // no person: the units go to `system:vouchers`). The batch is made by the capture's transaction; its
  // codes are drawn when the buyer first downloads them, then only their hashes are kept. An unpaid
  // order purged by the retention job takes its request with it.
  await knex.schema.createTable('voucher_purchases', (table) => {
    table.increments('id');
    table.integer('order_id').unsigned().notNullable().unique().references('id').inTable('orders').onDelete('CASCADE');
    table.integer('buyer_id').unsigned().notNullable().references('id').inTable('users');
    table.string('name', 100).notNullable();
    table.integer('code_count').notNullable();
    table.bigInteger('value').notNullable();
    table.string('expires_on', 10).notNullable();
    table.integer('batch_id').unsigned().nullable().unique().references('id').inTable('voucher_batches');
    // Set by the first handover, in the transaction that stores the codes' hashes.
    table.timestamp('handed_over_at', { useTz: true }).nullable();
    table.integer('handover_count').notNullable().defaultTo(0);
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.check('?? > 0', ['code_count'], 'voucher_purchases_count_positive');
    table.check('?? > 0', ['value'], 'voucher_purchases_value_positive');
    table.index(['buyer_id', 'id']);
  });

  // A code replaced by a new one (its holder lost the file): refused from then on, like a voided batch's.
  await knex.schema.alterTable('voucher_codes', (table) => {
    table.timestamp('replaced_at', { useTz: true }).nullable();
  });
}

/** Refused once a batch was ordered: its order, events and postings would lose what they were for. */
export async function down(knex: Knex): Promise<void> {
  const ordered = await knex('orders').where('kind', 'voucher_batch').first('id');
  if (ordered) throw new Error('batches of codes were ordered: undoing this migration would lose them');
  await knex.schema.alterTable('voucher_codes', (table) => {
    table.dropColumn('replaced_at');
  });
  await knex.schema.dropTable('voucher_purchases');
  await knex.schema.dropTable('voucher_buyers');
  await replaceSubjectCheck(knex, SUBJECT_BEFORE);
}
