import type { Knex } from 'knex';
import type { Hundredths, UsageCategory } from '../../domain/ledger/ledger.js';
import { toDate, toSafeInteger, type Queryable } from '../database.js';

export interface UsageDebit {
  id: number;
  apiKeyId: number;
  accountId: number;
  category: UsageCategory;
  amount: Hundredths;
  pages: number | null;
  reference: string;
  transactionId: number;
  createdAt: Date;
  /** When the debit was cancelled: the time of the reversing transaction, if there is one. */
  cancelledAt: Date | null;
  /** The reversing transaction, if there is one. */
  cancellationId: number | null;
}

export async function insertUsageDebit(trx: Knex.Transaction, debit: Omit<UsageDebit, 'id' | 'createdAt' | 'cancelledAt' | 'cancellationId'>, now: Date): Promise<void> {
  await trx('usage_debits').insert({
    api_key_id: debit.apiKeyId,
    account_id: debit.accountId,
    category: debit.category,
    amount: debit.amount,
    pages: debit.pages,
    reference: debit.reference,
    transaction_id: debit.transactionId,
    created_at: now.toISOString(),
  });
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

export async function findUsageDebitByTransaction(db: Queryable, transactionId: number): Promise<UsageDebit | undefined> {
  const row = await selectDebits(db).where('debit.transaction_id', transactionId).first();
  return row ? toUsageDebit(row) : undefined;
}

function toUsageDebit(row: Record<string, unknown>): UsageDebit {
  return {
    id: toSafeInteger(row.id),
    apiKeyId: toSafeInteger(row.api_key_id),
    accountId: toSafeInteger(row.account_id),
    category: row.category as UsageCategory,
    amount: toSafeInteger(row.amount),
    pages: row.pages == null ? null : toSafeInteger(row.pages),
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
}

export async function findAccountHolder(db: Queryable, username: string): Promise<AccountHolder | undefined> {
  const row = await db('users as person')
    .join('accounts as account', 'account.user_id', 'person.id')
    .where('person.username', username)
    .first('person.id as user_id', 'person.username', 'person.display_name', 'person.disabled', 'account.id as account_id', 'account.balance', 'account.allow_negative');
  if (!row) return undefined;
  return {
    userId: toSafeInteger(row.user_id),
    username: String(row.username),
    displayName: String(row.display_name),
    disabled: Boolean(row.disabled),
    accountId: toSafeInteger(row.account_id),
    balance: toSafeInteger(row.balance),
    allowNegative: Boolean(row.allow_negative),
  };
}
