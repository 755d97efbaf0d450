import type { Knex } from 'knex';
import { activityOf, mergeActivity, type ActivityRow, type PostedLine } from '../src/domain/ledger/account-activity.js';
import { toDate, toSafeInteger } from '../src/db/database.js';

/** Transactions read at a time by the backfill: its memory stays bounded whatever the ledger's size. */
const BACKFILL_PAGE = 1000;
/** Rows written per statement: knex writes a multi-row insert on SQLite as a compound SELECT, of 500 terms at most. */
const ROWS_PER_INSERT = 400;

export async function up(knex: Knex): Promise<void> {
  // What each person's account did, per bucket of quarter-hours (UTC) of a few spans and since it was
  // opened (domain/ledger/account-activity.ts): the account page's counts and usage summary read these
  // rows instead of the history. Kept in the posting transaction (db/ledger/ledger-repository.ts),
  // checked against the entries by `ledger check`.
  await knex.schema.createTable('account_activity', (table) => {
    table.integer('account_id').unsigned().notNullable().references('id').inTable('accounts');
    // `all`, or a history category: `top_up` or a usage category.
    table.string('class', 10).notNullable();
    // Quarter-hours per bucket (1, 96, 3072), or 0 for the one bucket since the account was opened.
    table.integer('span').notNullable();
    // The bucket's first quarter-hour (since 1970, UTC) divided by the span.
    table.integer('bucket').notNullable();
    table.integer('entries').notNullable();
    // Hundredths of a unit used in the class's category, by the time of the job.
    table.bigInteger('used_units').notNullable();
    // A period is a few ranges of buckets of one account, class and span.
    table.primary(['account_id', 'class', 'span', 'bucket']);
  });

  // The entries posted so far, as the posting would have counted them, a page of transactions at a time.
  const last = toSafeInteger((await knex('ledger_transactions').max({ id: 'id' }).first())?.id ?? 0);
  for (let after = 0; after < last; after += BACKFILL_PAGE) {
    const lines: Array<Record<string, unknown>> = await knex('ledger_transactions as tx')
      .join('ledger_entries as entry', 'entry.transaction_id', 'tx.id')
      .join('accounts as account', 'account.id', 'entry.account_id')
      .leftJoin('ledger_transactions as reversed', 'reversed.id', 'tx.reverses_transaction_id')
      .where('tx.id', '>', after)
      .where('tx.id', '<=', after + BACKFILL_PAGE)
      .select({
        transaction_id: 'tx.id',
        created_at: 'tx.created_at',
        reversed_created_at: 'reversed.created_at',
        account_id: 'entry.account_id',
        amount: 'entry.amount',
        kind: 'account.kind',
        code: 'account.code',
      });
    const transactions = new Map<number, { createdAt: Date; reversedCreatedAt: Date | null; lines: PostedLine[] }>();
    for (const line of lines) {
      const id = toSafeInteger(line.transaction_id);
      const transaction = transactions.get(id) ?? {
        createdAt: toDate(line.created_at),
        reversedCreatedAt: line.reversed_created_at == null ? null : toDate(line.reversed_created_at),
        lines: [],
      };
      transaction.lines.push({ accountId: toSafeInteger(line.account_id), amount: toSafeInteger(line.amount), accountKind: line.kind as PostedLine['accountKind'], accountCode: String(line.code) });
      transactions.set(id, transaction);
    }
    const rows = mergeActivity([...transactions.values()].flatMap((transaction) => activityOf(transaction)));
    for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) await addActivity(knex, rows.slice(start, start + ROWS_PER_INSERT));
  }
}

async function addActivity(knex: Knex, rows: ActivityRow[]): Promise<void> {
  await knex('account_activity')
    .insert(rows.map((row) => ({ account_id: row.accountId, class: row.activityClass, span: row.span, bucket: row.bucket, entries: row.entries, used_units: row.usedUnits })))
    .onConflict(['account_id', 'class', 'span', 'bucket'])
    .merge({
      entries: knex.raw('?? + excluded.entries', ['account_activity.entries']),
      used_units: knex.raw('?? + excluded.used_units', ['account_activity.used_units']),
    });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('account_activity');
}
