import type { Knex } from 'knex';
import { getAccountByCode, postTransaction } from '../../db/ledger/ledger-repository.js';
import { findUsageDebitByReference, findUsageDebitByTransaction, insertUsageDebit, type RecordedUsageDebit, type UsageDebit } from '../../db/print-api/usage-repository.js';
import { DomainError } from '../../domain/shared/errors.js';
import { LedgerError, SystemAccount } from '../../domain/ledger/ledger.js';

export class ReferenceInUseError extends DomainError<'reference_in_use'> {
  constructor(readonly reference: string) {
    super('reference_in_use', `reference ${reference} was already debited`);
  }
}

export interface UsageRequest extends Pick<UsageDebit, 'apiKeyId' | 'accountId' | 'category' | 'amount' | 'pages' | 'reference'>, Partial<Pick<UsageDebit, 'printer' | 'colour' | 'duplex'>> {
  /** The ledger transaction's idempotency key: recording the same usage twice records it once. */
  ledgerKey: string;
  /** The job is already printed: its units are taken even below zero, whatever the account allows. */
  allowOverdraft?: boolean;
}

/** `recordUsageTo` the usage account of the request's category, looked up first. */
export async function recordUsage(trx: Knex.Transaction, request: UsageRequest, now: Date): Promise<RecordedUsageDebit> {
  const usageAccount = await getAccountByCode(trx, SystemAccount.usage(request.category));
  return recordUsageTo(trx, usageAccount.id, request, now);
}

/**
 * Takes a job's units from a person's account to `usageAccountId` (the category's usage account),
 * inside the caller's transaction: a `usage` transaction and the row naming the job. Throws the
 * ledger's insufficient_balance (unless `allowOverdraft`), or reference_in_use when this key already debited that reference
 * for another request; either may come after writes, so the caller's transaction must roll back
 * (as `db.transaction` does when its work throws). Replaying the same request (same ledger key)
 * returns the debit already recorded.
 */
export async function recordUsageTo(trx: Knex.Transaction, usageAccountId: number, request: UsageRequest, now: Date): Promise<RecordedUsageDebit> {
  const lines = [
    { accountId: request.accountId, amount: -request.amount },
    { accountId: usageAccountId, amount: request.amount },
  ];
  const { transactionId, replayed } = await postTransaction(trx, { idempotencyKey: request.ledgerKey, kind: 'usage', lines, allowOverdraft: request.allowOverdraft === true }, now).catch(async (error: unknown): Promise<never> => {
    // A reference already debited is refused as such whatever the balance, as when it was checked first.
    const refused = error instanceof LedgerError && error.code === 'insufficient_balance';
    if (refused && (await findUsageDebitByReference(trx, request.apiKeyId, request.reference))) throw new ReferenceInUseError(request.reference);
    throw error;
  });
  if (replayed) {
    const earlier = await findUsageDebitByTransaction(trx, transactionId);
    if (!earlier) throw new Error(`usage transaction ${transactionId} has no usage_debits row`);
    return earlier;
  }
  // The unique (key, reference) decides, rather than a look-up before posting that every new debit would pay for.
  const { apiKeyId, accountId, category, amount, pages, reference } = request;
  const job = { printer: request.printer ?? null, colour: request.colour ?? null, duplex: request.duplex ?? null };
  const inserted = await insertUsageDebit(trx, { apiKeyId, accountId, category, amount, pages, ...job, reference, transactionId }, now);
  if (!inserted) throw new ReferenceInUseError(request.reference);
  return { id: inserted.id, apiKeyId, accountId, category, amount, pages, ...job, reference, transactionId, createdAt: now, cancelledAt: null, cancellationId: null, accountBalance: inserted.accountBalance };
}
