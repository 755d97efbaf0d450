import type { Knex } from 'knex';
import { findUsageRefusalByReference, insertUsageRefusal, type RefusalReason, type UsageRefusal } from '../../db/print-api/refusal-repository.js';
import type { AccountHolder } from '../../db/print-api/usage-repository.js';

/** The reasons as the API spells them (kebab-case, like its problem types), each with the one stored. */
const STORED_REASONS = { 'insufficient-balance': 'insufficient_balance', 'account-disabled': 'account_disabled' } as const satisfies Record<string, RefusalReason>;
export type ApiRefusalReason = keyof typeof STORED_REASONS;
export const API_REFUSAL_REASONS = Object.keys(STORED_REASONS) as [ApiRefusalReason, ...ApiRefusalReason[]];

export const storedRefusalReason = (reason: ApiRefusalReason): RefusalReason => STORED_REASONS[reason];
const API_REASONS = Object.fromEntries(API_REFUSAL_REASONS.map((name) => [STORED_REASONS[name], name])) as Record<RefusalReason, ApiRefusalReason>;
export const apiRefusalReason = (reason: RefusalReason): ApiRefusalReason => API_REASONS[reason];

export type RefusalRequest = Omit<UsageRefusal, 'id' | 'accountId' | 'username' | 'createdAt'>;

/**
 * Records a job a print server refused before printing it, on the holder's account; nothing moves in
 * the ledger. A reference this key already reported gives back the refusal recorded then, whatever
 * this request says (`created: false`): the backend may report one refusal more than once.
 */
export async function recordUsageRefusal(db: Knex, holder: AccountHolder, request: RefusalRequest, now: Date): Promise<{ refusal: UsageRefusal; created: boolean }> {
  const refusal = { ...request, accountId: holder.accountId };
  const id = await insertUsageRefusal(db, refusal, now);
  if (id !== undefined) return { refusal: { ...refusal, id, username: holder.username, createdAt: now }, created: true };
  const earlier = await findUsageRefusalByReference(db, request.apiKeyId, request.reference);
  // Refusals are never deleted: the row the insert ran into is there.
  if (!earlier) throw new Error(`usage refusal ${request.reference} of key ${request.apiKeyId} vanished`);
  return { refusal: earlier, created: false };
}
