import type { Knex } from 'knex';
import {
  LedgerError,
  reversalLines,
  sameLines,
  validateTransaction,
  type Hundredths,
  type PostingLine,
  type TransactionKind,
  type TransactionRequest,
} from '../../domain/ledger/ledger.js';
import { activityOf, type PostedLine } from '../../domain/ledger/account-activity.js';
import { isTransferredToDestination } from '../../domain/credit-transfers/transfers.js';
import { queueCreditTransfers } from '../credit-transfers/transfer-repository.js';
import { crossesThreshold } from '../../domain/low-balance/low-balance.js';
import { queueCrossingNotice, thresholdColumn, thresholdOf, withdrawPendingCrossingNotices } from '../low-balance/alert-repository.js';
import { toDate, toSafeInteger, type Queryable } from '../database.js';
import { recordActivity } from './account-activity-repository.js';

export interface PostResult {
  transactionId: number;
  /** True when the idempotency key was already recorded: nothing new was written. */
  replayed: boolean;
}

export interface Account {
  id: number;
  code: string;
  userId: number | null;
  balance: Hundredths;
  allowNegative: boolean;
}

/**
 * Records a balanced transaction inside the caller's database transaction, so that it commits or
 * rolls back together with whatever else the caller writes (an order's status, for instance). When a
 * credit destination is set, the change of each person's balance is queued for it in the same
 * transaction (db/credit-transfers): a credit is never in the ledger without its transfer, nor the reverse.
 * So is what each person's account counts in its activity (db/ledger/account-activity-repository.ts),
 * and the mail of a spending that takes a person's balance below their alert's threshold (db/low-balance).
 */
export function postTransaction(trx: Knex.Transaction, request: TransactionRequest, now: Date): Promise<PostResult> {
  return post(trx, request, now, null);
}

async function post(
  trx: Knex.Transaction,
  request: TransactionRequest & { reversesTransactionId?: number },
  now: Date,
  reversed: { kind: TransactionKind; createdAt: Date } | null,
): Promise<PostResult> {
  const lines = validateTransaction(request);
  const inserted: Array<{ id: unknown }> = await trx('ledger_transactions')
    .insert({
      idempotency_key: request.idempotencyKey,
      kind: request.kind,
      description: request.description ?? null,
      reverses_transaction_id: request.reversesTransactionId ?? null,
      created_by: request.createdBy ?? null,
      created_at: now.toISOString(),
    })
    .onConflict('idempotency_key')
    .ignore()
    .returning('id');
  if (inserted.length === 0) return replay(trx, request);

  const transactionId = toSafeInteger(inserted[0]?.id);
  const entries = [];
  const personLines = [];
  const posted: PostedLine[] = [];
  for (const line of lines) {
    const { balance, userId, accountKind, accountCode, lowBalanceThreshold } = await applyToBalance(trx, line, request.allowOverdraft === true);
    entries.push({ transaction_id: transactionId, account_id: line.accountId, amount: line.amount, balance_after: balance });
    if (userId !== null) personLines.push({ userId, amount: line.amount });
    // Debits of one account are serialized on its row, so exactly one of them sees the balance cross.
    if (userId !== null && lowBalanceThreshold !== null && crossesThreshold({ kind: request.kind, amount: line.amount, balanceAfter: balance, threshold: lowBalanceThreshold })) {
      await queueCrossingNotice(trx, { transactionId, accountId: line.accountId, userId, balanceAfter: balance, threshold: lowBalanceThreshold }, now);
    }
    // A cancelled debit that brings the balance back to the threshold withdraws its crossing's mail while unsent: it would be untrue.
    if (userId !== null && lowBalanceThreshold !== null && request.reversesTransactionId !== undefined && line.amount > 0 && balance >= lowBalanceThreshold) {
      await withdrawPendingCrossingNotices(trx, line.accountId, request.reversesTransactionId);
    }
    posted.push({ ...line, accountKind, accountCode });
  }
  await trx('ledger_entries').insert(entries);
  await recordActivity(trx, activityOf({ createdAt: now, reversedCreatedAt: reversed?.createdAt ?? null, lines: posted }));
  if (isTransferredToDestination(request.kind, reversed?.kind ?? null)) await queueCreditTransfers(trx, { ledgerTransactionId: transactionId, lines: personLines }, now);
  return { transactionId, replayed: false };
}

/**
 * Posts the opposite of an earlier transaction. A transaction is reversed at most once (a unique
 * column); reversing with the same idempotency key again is a replay.
 */
export async function reverseTransaction(
  trx: Knex.Transaction,
  request: { transactionId: number; idempotencyKey: string; description?: string | null; createdBy?: number | null; allowOverdraft?: boolean },
  now: Date,
): Promise<PostResult> {
  const original = await trx('ledger_transactions').where('id', request.transactionId).first('id', 'kind', 'created_at');
  if (!original) throw new LedgerError('transaction_not_found', `transaction ${request.transactionId} does not exist`);
  const earlier = await trx('ledger_transactions').where('reverses_transaction_id', request.transactionId).first('idempotency_key');
  if (earlier && earlier.idempotency_key !== request.idempotencyKey) {
    throw new LedgerError('already_reversed', `transaction ${request.transactionId} is already reversed`);
  }
  if (original.kind === 'reversal') {
    throw new LedgerError('invalid_transaction', 'a reversal cannot itself be reversed; post a new transaction');
  }
  return post(
    trx,
    {
      idempotencyKey: request.idempotencyKey,
      kind: 'reversal',
      lines: reversalLines(await transactionLines(trx, request.transactionId)),
      description: request.description ?? null,
      createdBy: request.createdBy ?? null,
      allowOverdraft: request.allowOverdraft ?? false,
      reversesTransactionId: request.transactionId,
    },
    now,
    { kind: original.kind as TransactionKind, createdAt: toDate(original.created_at) },
  );
}

async function replay(trx: Knex.Transaction, request: TransactionRequest & { reversesTransactionId?: number }): Promise<PostResult> {
  const existing = await trx('ledger_transactions')
    .where('idempotency_key', request.idempotencyKey)
    .first('id', 'kind', 'reverses_transaction_id');
  const transactionId = toSafeInteger(existing?.id);
  const sameReversal = (existing?.reverses_transaction_id ?? null) === (request.reversesTransactionId ?? null);
  if (existing?.kind !== request.kind || !sameReversal || !sameLines(await transactionLines(trx, transactionId), request.lines)) {
    throw new LedgerError('idempotency_conflict', `idempotency key ${request.idempotencyKey} was used for a different transaction`);
  }
  return { transactionId, replayed: true };
}

/**
 * Moves one account's balance. A debit is a guarded update (`balance + amount >= 0` unless the
 * account or the transaction allows overdraft): under concurrency the database serializes writers on
 * the row, and the guard is evaluated against the committed balance, so no debit can overdraw.
 */
async function applyToBalance(
  trx: Knex.Transaction,
  line: PostingLine,
  allowOverdraft: boolean,
): Promise<{ balance: Hundredths; userId: number | null; accountKind: PostedLine['accountKind']; accountCode: string; lowBalanceThreshold: Hundredths | null }> {
  const update = trx('accounts')
    .where('id', line.accountId)
    .update({ balance: trx.raw('balance + ?', [line.amount]) });
  if (line.amount < 0 && !allowOverdraft) {
    void update.andWhere((guard) => guard.where('allow_negative', true).orWhere('balance', '>=', -line.amount));
  }
  const [updated] = (await update.returning(['balance', 'user_id', 'kind', 'code', thresholdColumn(trx)])) as Array<{ balance: unknown; user_id: unknown; kind: PostedLine['accountKind']; code: string; low_balance_threshold: unknown }>;
  if (updated) {
    return {
      balance: toSafeInteger(updated.balance),
      userId: updated.user_id == null ? null : toSafeInteger(updated.user_id),
      accountKind: updated.kind,
      accountCode: updated.code,
      lowBalanceThreshold: thresholdOf(updated),
    };
  }
  const exists = await trx('accounts').where('id', line.accountId).first('id');
  if (!exists) throw new LedgerError('account_not_found', `account ${line.accountId} does not exist`);
  throw new LedgerError('insufficient_balance', `account ${line.accountId} has too few units`);
}

async function transactionLines(db: Queryable, transactionId: number): Promise<PostingLine[]> {
  const rows: Array<{ account_id: unknown; amount: unknown }> = await db('ledger_entries')
    .where('transaction_id', transactionId)
    .select('account_id', 'amount');
  return rows.map((row) => ({ accountId: toSafeInteger(row.account_id), amount: toSafeInteger(row.amount) }));
}

function toAccount(row: Record<string, unknown>): Account {
  return {
    id: toSafeInteger(row.id),
    code: String(row.code),
    userId: row.user_id == null ? null : toSafeInteger(row.user_id),
    balance: toSafeInteger(row.balance),
    allowNegative: Boolean(row.allow_negative),
  };
}

/** Whether a transaction was posted under this idempotency key. */
export async function isTransactionRecorded(db: Queryable, idempotencyKey: string): Promise<boolean> {
  return (await db('ledger_transactions').where('idempotency_key', idempotencyKey).first('id')) !== undefined;
}

export async function findAccountByCode(db: Queryable, code: string): Promise<Account | undefined> {
  const row = await db('accounts').where('code', code).first();
  return row ? toAccount(row) : undefined;
}

export async function findAccountByUserId(db: Queryable, userId: number): Promise<Account | undefined> {
  const row = await db('accounts').where('user_id', userId).first();
  return row ? toAccount(row) : undefined;
}

export async function getAccountByCode(db: Queryable, code: string): Promise<Account> {
  const account = await findAccountByCode(db, code);
  if (!account) throw new LedgerError('account_not_found', `account ${code} does not exist`);
  return account;
}

/** Marks the account for an admin's attention when a take-back left it below zero. */
export async function flagIfOverdrawn(db: Queryable, accountId: number): Promise<void> {
  await db('accounts').where('id', accountId).where('balance', '<', 0).update({ flagged: true });
}

export async function createAccount(
  db: Queryable,
  account: { code: string; kind: 'user' | 'system'; userId?: number | null; allowNegative?: boolean },
  now: Date,
): Promise<Account> {
  await db('accounts').insert({
    code: account.code,
    kind: account.kind,
    user_id: account.userId ?? null,
    balance: 0,
    allow_negative: account.allowNegative ?? false,
    created_at: now.toISOString(),
  });
  return getAccountByCode(db, account.code);
}
