import type { Knex } from 'knex';
import { activityOf, mergeActivity, type ActivityRow, type PostedLine } from '../src/domain/ledger/account-activity.js';
import { SystemAccount, type Hundredths, type PostingLine, type UsageCategory } from '../src/domain/ledger/ledger.js';
import { recordActivity } from '../src/db/ledger/account-activity-repository.js';
import { toSafeInteger } from '../src/db/database.js';

/** One line of the person's history, oldest first: each is one entry on their account. */
export type HistoryEvent =
  | { kind: 'top_up'; number: number; at: Date }
  | { kind: 'usage'; number: number; at: Date; category: UsageCategory; pages: number; amount: Hundredths }
  | { kind: 'reversal'; job: number; at: Date };

const DAY_MS = 24 * 60 * 60 * 1000;
const HISTORY_MS = 730 * DAY_MS;
/** The demo's 50 € pack: 50 units and 7.50 of bonus. */
const TOP_UP = { units: 5000, bonus: 750 };
/** Below this after a job, the person tops up first. */
const LOW_BALANCE: Hundredths = 100;
/** The print server cancels one job in so many. */
const CANCELLED_EVERY = 250;
/**
 * Rows per INSERT: knex writes a multi-row insert for SQLite as a compound SELECT, which SQLite limits
 * to 500 terms; far below both databases' limits on bound values (32 766 and 65 535).
 */
const ROWS_PER_INSERT = 500;

/** Job n's category: print, copy, scan and fax in the demo's proportions (72, 17, 8 and 3 in 100), spread evenly. */
function categoryOf(job: number): UsageCategory {
  const slot = (job * 37) % 100;
  return slot < 72 ? 'print' : slot < 89 ? 'copy' : slot < 97 ? 'scan' : 'fax';
}

/**
 * `entries` events spread evenly over the two years before `end`: print, copy, scan and fax jobs of 1
 * to 17 pages, a top-up whenever the balance would run low, one job in 250 cancelled right after. The
 * same on every run (no randomness), so runs compare.
 */
export function longHistory(entries: number, end: Date): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  const step = HISTORY_MS / entries;
  const at = () => new Date(end.getTime() - HISTORY_MS + events.length * step);
  let balance = 0;
  let topUps = 0;
  for (let job = 1; events.length < entries; job += 1) {
    const category = categoryOf(job);
    const pages = 1 + ((job * 13) % 17);
    const amount = pages * (category === 'fax' ? 15 : 5);
    if (balance - amount < LOW_BALANCE) {
      events.push({ kind: 'top_up', number: (topUps += 1), at: at() });
      balance += TOP_UP.units + TOP_UP.bonus;
      if (events.length === entries) break;
    }
    events.push({ kind: 'usage', number: job, at: at(), category, pages, amount });
    balance -= amount;
    if (job % CANCELLED_EVERY === 0 && events.length < entries) {
      events.push({ kind: 'reversal', job, at: at() });
      balance += amount;
    }
  }
  return events;
}

const keyOf = (event: HistoryEvent) =>
  event.kind === 'top_up' ? `bench:history:top-up:${event.number}` : event.kind === 'usage' ? `bench:history:job:${event.number}` : `bench:history:cancel:${event.job}`;

/**
 * Writes `events` on `accountId` as postTransaction would have posted them one by one (the same
 * transactions, lines in the same order, balances after each entry, account balances, the account's
 * activity counted by the ledger's own activityOf and recordActivity, a usage_debits row per job under
 * `apiKeyId`), but in multi-row inserts inside the caller's transaction: a hundred thousand postings
 * one at a time would take minutes. Entry ids grow with time, as the history expects.
 */
export async function insertHistory(trx: Knex.Transaction, { accountId, apiKeyId, events }: { accountId: number; apiKeyId: number; events: readonly HistoryEvent[] }): Promise<void> {
  const systemCodes = [SystemAccount.topUps, SystemAccount.bonuses, ...new Set(events.flatMap((event) => (event.kind === 'usage' ? [SystemAccount.usage(event.category)] : [])))];
  const accounts: Array<{ id: unknown; code: string; kind: PostedLine['accountKind']; balance: unknown }> = await trx('accounts')
    .whereIn('code', systemCodes)
    .orWhere('id', accountId)
    .select('id', 'code', 'kind', 'balance');
  const balances = new Map(accounts.map((account) => [toSafeInteger(account.id), toSafeInteger(account.balance)]));
  const idOf = new Map(accounts.map((account) => [account.code, toSafeInteger(account.id)]));
  const accountOf = new Map(accounts.map((account) => [toSafeInteger(account.id), { accountKind: account.kind, accountCode: account.code }]));
  const jobs = new Map<number, { transactionId: number; at: Date; lines: PostingLine[] }>();

  const linesOf = (event: HistoryEvent): PostingLine[] => {
    if (event.kind === 'top_up') {
      return [
        { accountId, amount: TOP_UP.units + TOP_UP.bonus },
        { accountId: idOf.get(SystemAccount.topUps)!, amount: -TOP_UP.units },
        { accountId: idOf.get(SystemAccount.bonuses)!, amount: -TOP_UP.bonus },
      ];
    }
    if (event.kind === 'usage') {
      return [
        { accountId, amount: -event.amount },
        { accountId: idOf.get(SystemAccount.usage(event.category))!, amount: event.amount },
      ];
    }
    return jobs.get(event.job)!.lines.map((line) => ({ accountId: line.accountId, amount: -line.amount }));
  };

  const write = async (chunk: readonly HistoryEvent[]) => {
    const transactions = chunk.map((event) => ({
      idempotency_key: keyOf(event),
      kind: event.kind,
      description: null,
      reverses_transaction_id: event.kind === 'reversal' ? jobs.get(event.job)!.transactionId : null,
      created_by: null,
      created_at: event.at.toISOString(),
    }));
    const inserted: Array<{ id: unknown; idempotency_key: string }> = await trx('ledger_transactions').insert(transactions).returning(['id', 'idempotency_key']);
    const transactionIdOf = new Map(inserted.map((row) => [row.idempotency_key, toSafeInteger(row.id)]));
    const entries = [];
    const debits = [];
    const activity: ActivityRow[] = [];
    for (const event of chunk) {
      const transactionId = transactionIdOf.get(keyOf(event))!;
      const lines = linesOf(event);
      for (const line of lines) {
        const balance = balances.get(line.accountId)! + line.amount;
        balances.set(line.accountId, balance);
        entries.push({ transaction_id: transactionId, account_id: line.accountId, amount: line.amount, balance_after: balance });
      }
      const reversedAt = event.kind === 'reversal' ? jobs.get(event.job)!.at : null;
      activity.push(...activityOf({ createdAt: event.at, reversedCreatedAt: reversedAt, lines: lines.map((line) => ({ ...line, ...accountOf.get(line.accountId)! })) }));
      if (event.kind === 'usage') {
        jobs.set(event.number, { transactionId, at: event.at, lines });
        debits.push({
          api_key_id: apiKeyId,
          account_id: accountId,
          category: event.category,
          amount: event.amount,
          pages: event.pages,
          reference: `history-job-${event.number}`,
          transaction_id: transactionId,
          created_at: event.at.toISOString(),
        });
      }
    }
    for (let start = 0; start < entries.length; start += ROWS_PER_INSERT) await trx('ledger_entries').insert(entries.slice(start, start + ROWS_PER_INSERT));
    if (debits.length > 0) await trx('usage_debits').insert(debits);
    const activityRows = mergeActivity(activity);
    for (let start = 0; start < activityRows.length; start += ROWS_PER_INSERT) await recordActivity(trx, activityRows.slice(start, start + ROWS_PER_INSERT));
  };

  let chunk: HistoryEvent[] = [];
  for (const event of events) {
    // A reversal names its job's transaction: the job must have been written first.
    if (chunk.length === ROWS_PER_INSERT || (event.kind === 'reversal' && !jobs.has(event.job))) {
      await write(chunk);
      chunk = [];
    }
    chunk.push(event);
  }
  if (chunk.length > 0) await write(chunk);
  for (const [id, balance] of balances) await trx('accounts').where('id', id).update({ balance });
}
