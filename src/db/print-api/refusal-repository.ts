import type { Hundredths, UsageCategory } from '../../domain/ledger/ledger.js';
import { toDate, toSafeInteger, type Queryable } from '../database.js';
import { jobDetailsOf } from './usage-repository.js';

/** Why a print server refused a job before printing it. */
export type RefusalReason = 'insufficient_balance' | 'account_disabled';

/** A job a print server refused: no units moved, so it is no ledger transaction. */
export interface UsageRefusal {
  id: number;
  apiKeyId: number;
  accountId: number;
  /** Whose account it is, as the API names it. */
  username: string;
  category: UsageCategory;
  reason: RefusalReason;
  /** What the job would have cost. */
  amount: Hundredths;
  /** The balance the print server saw when it refused, if it said. */
  balanceSeen: Hundredths | null;
  pages: number | null;
  printer: string | null;
  colour: boolean | null;
  duplex: boolean | null;
  reference: string;
  createdAt: Date;
}

/**
 * Records the refusal and returns its id; undefined, writing nothing, when this key already recorded
 * a refusal with that reference (the unique (key, reference) decides, so that two reports of one
 * refusal racing each other record it once).
 */
export async function insertUsageRefusal(db: Queryable, refusal: Omit<UsageRefusal, 'id' | 'username' | 'createdAt'>, now: Date): Promise<number | undefined> {
  const [row] = (await db('usage_refusals')
    .insert({
      api_key_id: refusal.apiKeyId,
      account_id: refusal.accountId,
      category: refusal.category,
      reason: refusal.reason,
      amount: refusal.amount,
      balance_seen: refusal.balanceSeen,
      pages: refusal.pages,
      printer: refusal.printer,
      colour: refusal.colour,
      duplex: refusal.duplex,
      reference: refusal.reference,
      created_at: now.toISOString(),
    })
    .onConflict(['api_key_id', 'reference'])
    .ignore()
    .returning('id')) as Array<{ id: unknown }>;
  return row ? toSafeInteger(row.id) : undefined;
}

export async function findUsageRefusalByReference(db: Queryable, apiKeyId: number, reference: string): Promise<UsageRefusal | undefined> {
  const row = (await db('usage_refusals as refusal')
    .join('accounts as account', 'account.id', 'refusal.account_id')
    .join('users as person', 'person.id', 'account.user_id')
    .where({ 'refusal.api_key_id': apiKeyId, 'refusal.reference': reference })
    .first('refusal.*', 'person.username')) as Record<string, unknown> | undefined;
  return row ? toUsageRefusal(row) : undefined;
}

function toUsageRefusal(row: Record<string, unknown>): UsageRefusal {
  return {
    id: toSafeInteger(row.id),
    apiKeyId: toSafeInteger(row.api_key_id),
    accountId: toSafeInteger(row.account_id),
    username: String(row.username),
    category: row.category as UsageCategory,
    reason: row.reason as RefusalReason,
    amount: toSafeInteger(row.amount),
    balanceSeen: row.balance_seen == null ? null : toSafeInteger(row.balance_seen),
    ...jobDetailsOf(row),
    reference: String(row.reference),
    createdAt: toDate(row.created_at),
  };
}
