import type { Knex } from 'knex';
import type { Hundredths, UsageCategory } from '../../domain/ledger/ledger.js';
import { toDate, toSafeInteger, type Queryable } from '../database.js';
import type { RefusalReason } from './refusal-repository.js';
import { jobDetailsOf } from './usage-repository.js';

/** What became of a job a print server reported: debited, debited then cancelled, or refused before printing. */
export type PrintJobStatus = 'debited' | 'cancelled' | 'refused';

/** One job of a print server (API key): a debit or a refusal, with whose account it was. */
export interface PrintJob {
  kind: 'debit' | 'refusal';
  /** The row's id in its own table (usage_debits or usage_refusals). */
  id: number;
  createdAt: Date;
  username: string;
  category: UsageCategory;
  printer: string | null;
  pages: number | null;
  colour: boolean | null;
  duplex: boolean | null;
  /** Debited, or what the job would have cost when refused. */
  amount: Hundredths;
  reference: string;
  status: PrintJobStatus;
  /** Why it was refused; null for a debit. */
  reason: RefusalReason | null;
}

/**
 * Where a job stands in a print server's list, newest first: by time, then refusals before debits of
 * the same instant (kinds sort by name), then the newest id. Enough to read the jobs after or before it (keyset paging),
 * which stays right while new jobs arrive.
 */
export type PrintJobPosition = Pick<PrintJob, 'createdAt' | 'kind' | 'id'>;

/** Which side of a position to read: `older` jobs come after it in the list, `newer` ones before. */
export type PrintJobSide = 'older' | 'newer';

const TABLES = { debit: 'usage_debits', refusal: 'usage_refusals' } as const;

/**
 * Keeps the jobs of one table (all of one kind) on `side` of `position` in the order (time, kind, id):
 * comparing the kinds once here leaves each table a plain range on its (api_key_id, created_at) index.
 */
function onSide(builder: Knex.QueryBuilder, kind: PrintJob['kind'], side: PrintJobSide, position: PrintJobPosition): Knex.QueryBuilder {
  const [beyond, beyondOrAt] = side === 'older' ? (['<', '<='] as const) : (['>', '>='] as const);
  const at = position.createdAt.toISOString();
  if (kind === position.kind) {
    return builder.where((inner) => inner.where('job.created_at', beyond, at).orWhere((same) => same.where('job.created_at', at).where('job.id', beyond, position.id)));
  }
  // 'debit' < 'refusal': at the same instant, another kind is beyond the position when it sorts beyond it.
  const kindBeyond = side === 'older' ? kind < position.kind : kind > position.kind;
  return builder.where('job.created_at', kindBeyond ? beyondOrAt : beyond, at);
}

/** One table's jobs of the key, in list order (or its reverse, reading newer jobs), at most `limit`. */
function jobsOfKind(db: Queryable, kind: PrintJob['kind'], apiKeyId: number, limit: number, from?: { side: PrintJobSide; position: PrintJobPosition }) {
  const order = from?.side === 'newer' ? 'asc' : 'desc';
  const jobs = db(`${TABLES[kind]} as job`)
    .join('accounts as account', 'account.id', 'job.account_id')
    .join('users as person', 'person.id', 'account.user_id')
    .where('job.api_key_id', apiKeyId)
    .orderBy([
      { column: 'job.created_at', order },
      { column: 'job.id', order },
    ])
    .limit(limit)
    .select('job.id', 'job.created_at', 'person.username', 'job.category', 'job.printer', 'job.pages', 'job.colour', 'job.duplex', 'job.amount', 'job.reference');
  if (from) void onSide(jobs, kind, from.side, from.position);
  if (kind === 'refusal') return jobs.select(db.raw("'refusal' as kind"), db.raw("'refused' as status"), 'job.reason');
  // A cancelled debit is one whose ledger transaction was reversed.
  return jobs
    .leftJoin('ledger_transactions as reversal', 'reversal.reverses_transaction_id', 'job.transaction_id')
    .select(db.raw("'debit' as kind"), db.raw("case when reversal.id is null then 'debited' else 'cancelled' end as status"), db.raw('null as reason'));
}

/**
 * A print server's jobs, debits and refusals together, newest first: the first `limit`, or the
 * `limit` next to `from` on its side. One statement: each table's own page (read on its index), merged.
 */
export async function listPrintJobs(db: Queryable, apiKeyId: number, limit: number, from?: { side: PrintJobSide; position: PrintJobPosition }): Promise<PrintJob[]> {
  const order = from?.side === 'newer' ? 'asc' : 'desc';
  const debits = db.select('*').from(jobsOfKind(db, 'debit', apiKeyId, limit, from).as('debit_jobs'));
  const refusals = db.select('*').from(jobsOfKind(db, 'refusal', apiKeyId, limit, from).as('refusal_jobs'));
  const rows: Array<Record<string, unknown>> = await db
    .select('*')
    .from(debits.unionAll(refusals).as('jobs'))
    .orderBy([
      { column: 'created_at', order },
      { column: 'kind', order },
      { column: 'id', order },
    ])
    .limit(limit);
  const jobs = rows.map(toPrintJob);
  return order === 'asc' ? jobs.reverse() : jobs;
}

/** How many jobs the key has, and how many of them are newer than `position` (none without one); one statement. */
export async function countPrintJobs(db: Queryable, apiKeyId: number, position: PrintJobPosition | null): Promise<{ total: number; newer: number }> {
  const counted = (['debit', 'refusal'] as const).flatMap((kind) => {
    const all = db(`${TABLES[kind]} as job`).where('job.api_key_id', apiKeyId);
    const newer = position ? [onSide(all.clone(), kind, 'newer', position).count('*').as(`newer_${kind}`)] : [];
    return [all.count('*').as(`all_${kind}`), ...newer];
  });
  const row = (await db.select(counted).first()) as Record<string, unknown>;
  const sum = (prefix: string) => ['debit', 'refusal'].reduce((total, kind) => total + (row[`${prefix}_${kind}`] == null ? 0 : toSafeInteger(row[`${prefix}_${kind}`])), 0);
  return { total: sum('all'), newer: sum('newer') };
}

function toPrintJob(row: Record<string, unknown>): PrintJob {
  return {
    kind: row.kind === 'refusal' ? 'refusal' : 'debit',
    id: toSafeInteger(row.id),
    createdAt: toDate(row.created_at),
    username: String(row.username),
    category: row.category as UsageCategory,
    ...jobDetailsOf(row),
    amount: toSafeInteger(row.amount),
    reference: String(row.reference),
    status: row.status as PrintJobStatus,
    reason: row.reason == null ? null : (row.reason as RefusalReason),
  };
}
