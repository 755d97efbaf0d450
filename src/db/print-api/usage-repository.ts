import type { Knex } from 'knex';
import { LedgerError, type Hundredths, type UsageCategory } from '../../domain/ledger/ledger.js';
import { toDate, toSafeInteger, type Queryable } from '../database.js';
import { thresholdOf } from '../low-balance/alert-repository.js';

export interface UsageDebit {
  id: number;
  apiKeyId: number;
  accountId: number;
  category: UsageCategory;
  amount: Hundredths;
  pages: number | null;
  /** The printer (a print server's queue), and whether the job was in colour and two-sided; null when the server did not say. */
  printer: string | null;
  colour: boolean | null;
  duplex: boolean | null;
  reference: string;
  transactionId: number;
  createdAt: Date;
  /** When the debit was cancelled: the time of the reversing transaction, if there is one. */
  cancelledAt: Date | null;
  /** The reversing transaction, if there is one. */
  cancellationId: number | null;
}

/** A debit with its account's balance: as the debit left it, or as it is now for a debit recorded earlier. */
export interface RecordedUsageDebit extends UsageDebit {
  accountBalance: Hundredths;
}

/**
 * Inserts the debit and returns its id with the account's balance, which this transaction has just
 * set and holds locked (read in the same statement: no read-back); undefined, writing nothing, when
 * this key already debited the reference.
 */
export async function insertUsageDebit(
  trx: Knex.Transaction,
  debit: Omit<UsageDebit, 'id' | 'createdAt' | 'cancelledAt' | 'cancellationId'>,
  now: Date,
): Promise<{ id: number; accountBalance: Hundredths } | undefined> {
  const [row] = (await trx('usage_debits')
    .insert({
      api_key_id: debit.apiKeyId,
      account_id: debit.accountId,
      category: debit.category,
      amount: debit.amount,
      pages: debit.pages,
      printer: debit.printer,
      colour: debit.colour,
      duplex: debit.duplex,
      reference: debit.reference,
      transaction_id: debit.transactionId,
      created_at: now.toISOString(),
    })
    .onConflict(['api_key_id', 'reference'])
    .ignore()
    .returning(['id', trx.raw('(select balance from accounts where accounts.id = usage_debits.account_id) as account_balance')])) as Array<{ id: unknown; account_balance: unknown }>;
  return row ? { id: toSafeInteger(row.id), accountBalance: toSafeInteger(row.account_balance) } : undefined;
}

function selectDebits(db: Queryable) {
  return db('usage_debits as debit')
    .leftJoin('ledger_transactions as reversal', 'reversal.reverses_transaction_id', 'debit.transaction_id')
    .select('debit.*', 'reversal.id as cancellation_id', 'reversal.created_at as cancelled_at');
}

export async function findUsageDebitByReference(db: Queryable, apiKeyId: number, reference: string): Promise<UsageDebit | undefined> {
  const row = await selectDebits(db).where({ 'debit.api_key_id': apiKeyId, 'debit.reference': reference }).first();
  return row ? toUsageDebit(row) : undefined;
}

export async function findUsageDebitByTransaction(db: Queryable, transactionId: number): Promise<RecordedUsageDebit | undefined> {
  const row = await selectDebits(db)
    .join('accounts as account', 'account.id', 'debit.account_id')
    .where('debit.transaction_id', transactionId)
    .first('account.balance as account_balance');
  return row ? { ...toUsageDebit(row), accountBalance: toSafeInteger(row.account_balance) } : undefined;
}

/** What a print server said of a job, as the API and the pages show it; null where it did not say. */
export interface JobDetails {
  pages: number | null;
  printer: string | null;
  colour: boolean | null;
  duplex: boolean | null;
}

/** A job's details from a row with those columns (SQLite gives booleans as 0 and 1). */
export function jobDetailsOf(row: Record<string, unknown>): JobDetails {
  const flag = (value: unknown) => (value == null ? null : Boolean(value));
  return { pages: row.pages == null ? null : toSafeInteger(row.pages), printer: row.printer == null ? null : String(row.printer), colour: flag(row.colour), duplex: flag(row.duplex) };
}

function toUsageDebit(row: Record<string, unknown>): UsageDebit {
  return {
    id: toSafeInteger(row.id),
    apiKeyId: toSafeInteger(row.api_key_id),
    accountId: toSafeInteger(row.account_id),
    category: row.category as UsageCategory,
    amount: toSafeInteger(row.amount),
    ...jobDetailsOf(row),
    reference: String(row.reference),
    transactionId: toSafeInteger(row.transaction_id),
    createdAt: toDate(row.created_at),
    cancelledAt: row.cancelled_at == null ? null : toDate(row.cancelled_at),
    cancellationId: row.cancellation_id == null ? null : toSafeInteger(row.cancellation_id),
  };
}

/** A person's account, as the print servers know them: by username. */
export interface AccountHolder {
  userId: number;
  username: string;
  displayName: string;
  disabled: boolean;
  accountId: number;
  balance: Hundredths;
  allowNegative: boolean;
  /** The person's low-balance alert's threshold (db/low-balance); null without one. */
  lowBalanceThreshold: Hundredths | null;
}

const ACCOUNT_HOLDER_COLUMNS = ['person.id as user_id', 'person.username', 'person.display_name', 'person.disabled', 'account.id as account_id', 'account.balance', 'account.allow_negative', 'alert.threshold as low_balance_threshold'];

const accountHolders = (db: Queryable, username: string) =>
  db('users as person').join('accounts as account', 'account.user_id', 'person.id').leftJoin('low_balance_alerts as alert', 'alert.account_id', 'account.id').where('person.username', username);

export async function findAccountHolder(db: Queryable, username: string): Promise<AccountHolder | undefined> {
  const row = await accountHolders(db, username).first(ACCOUNT_HOLDER_COLUMNS);
  return row ? toAccountHolder(row) : undefined;
}

/** The account a debit takes from, and the system account it goes to (`usageAccountCode`), in one statement. */
export async function findDebitAccounts(db: Queryable, username: string, usageAccountCode: string): Promise<{ holder: AccountHolder; usageAccountId: number } | undefined> {
  const usageAccountId = db.raw('(select id from accounts where code = ?) as usage_account_id', [usageAccountCode]);
  const row = await accountHolders(db, username).first([...ACCOUNT_HOLDER_COLUMNS, usageAccountId]);
  if (!row) return undefined;
  if (row.usage_account_id == null) throw new LedgerError('account_not_found', `account ${usageAccountCode} does not exist`);
  return { holder: toAccountHolder(row), usageAccountId: toSafeInteger(row.usage_account_id) };
}

function toAccountHolder(row: Record<string, unknown>): AccountHolder {
  return {
    userId: toSafeInteger(row.user_id),
    username: String(row.username),
    displayName: String(row.display_name),
    disabled: Boolean(row.disabled),
    accountId: toSafeInteger(row.account_id),
    balance: toSafeInteger(row.balance),
    allowNegative: Boolean(row.allow_negative),
    lowBalanceThreshold: thresholdOf(row),
  };
}
