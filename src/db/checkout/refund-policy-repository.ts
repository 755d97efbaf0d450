import { DEFAULT_REFUND_POLICY, isRefundPolicy, type RefundPolicy } from '../../domain/checkout/refunds.js';
import type { Queryable } from '../database.js';

const KEY = 'refund_policy';

/** The refund policy in `portal_settings`; absent (never chosen) or unreadable means the default. */
export async function loadRefundPolicy(db: Queryable): Promise<RefundPolicy> {
  const row = (await db('portal_settings').where('key', KEY).first('value')) as { value: unknown } | undefined;
  return isRefundPolicy(row?.value) ? row.value : DEFAULT_REFUND_POLICY;
}

export async function saveRefundPolicy(db: Queryable, policy: RefundPolicy): Promise<void> {
  await db('portal_settings').insert({ key: KEY, value: policy }).onConflict('key').merge();
}
