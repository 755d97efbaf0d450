import type { Knex } from 'knex';
import { getAccountByCode, postTransaction, transactionHasKey } from '../../db/ledger/ledger-repository.js';
import { findUsageDebitByReference, findUsageDebitByTransaction, insertUsageDebit, type UsageDebit } from '../../db/print-api/usage-repository.js';
import { DomainError } from '../../domain/shared/errors.js';
import { SystemAccount } from '../../domain/ledger/ledger.js';

export class ReferenceInUseError extends DomainError<'reference_in_use'> {
  constructor(readonly reference: string) {
    super('reference_in_use', `reference ${reference} was already debited`);
  }
}

export interface UsageRequest extends Pick<UsageDebit, 'apiKeyId' | 'accountId' | 'category' | 'amount' | 'pages' | 'reference'> {
  /** The ledger transaction's idempotency key: recording the same usage twice records it once. */
  ledgerKey: string;
}

/**
 * Takes a job's units from a person's account, inside the caller's transaction: a `usage` transaction
 * to the category's usage account, and the row naming the job. Throws the ledger's
 * insufficient_balance (nothing written), or reference_in_use when this key already debited that
 * reference for another request. Replaying the same request returns the debit already recorded.
 */
export async function recordUsage(trx: Knex.Transaction, request: UsageRequest, now: Date): Promise<UsageDebit> {
  const earlier = await findUsageDebitByReference(trx, request.apiKeyId, request.reference);
  const usageAccount = await getAccountByCode(trx, SystemAccount.usage(request.category));
  if (earlier) {
    if (!(await transactionHasKey(trx, earlier.transactionId, request.ledgerKey))) throw new ReferenceInUseError(request.reference);
    return earlier;
  }
  const { transactionId, replayed } = await postTransaction(
    trx,
    {
      idempotencyKey: request.ledgerKey,
      kind: 'usage',
      lines: [
        { accountId: request.accountId, amount: -request.amount },
        { accountId: usageAccount.id, amount: request.amount },
      ],
    },
    now,
  );
  if (!replayed) await insertUsageDebit(trx, { ...request, transactionId }, now);
  const debit = await findUsageDebitByTransaction(trx, transactionId);
  if (!debit) throw new Error(`usage transaction ${transactionId} has no usage_debits row`);
  return debit;
}
