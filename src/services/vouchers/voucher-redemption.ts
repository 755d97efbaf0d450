import type { Database } from '../../db/database.js';
import { getAccountByCode, postTransaction } from '../../db/ledger/ledger-repository.js';
import { lockPersonAccount } from '../../db/people/people-repository.js';
import { countRedemptionAttempt, forgiveRedemptionAttempt, purgeRedemptionAttempts } from '../../db/vouchers/redemption-attempt-repository.js';
import { claimCode, countBatchRedemption, findCode, findCodeByHash, findVoucherBatch, recordCodeTransaction } from '../../db/vouchers/voucher-repository.js';
import { LedgerError, SystemAccount, type Hundredths } from '../../domain/ledger/ledger.js';
import { loginSource } from '../../domain/people/login-throttle.js';
import type { User } from '../../domain/people/users.js';
import { dayOf, type DayKey } from '../../domain/time/calendar.js';
import type { Clock } from '../../domain/time/clock.js';
import { longestRedemptionWindowMs, redemptionKeys, redemptionWaitMs } from '../../domain/vouchers/redemption-limits.js';
import { voucherRefusal, type VoucherRefusal } from '../../domain/vouchers/voucher-batches.js';
import { normaliseVoucherCode, voucherCodeHash } from '../../domain/vouchers/voucher-codes.js';

/** How often an instance deletes the failures no limit looks at any more. */
const PURGE_INTERVAL_MS = 60_000;

/** The ledger key of a code's redemption: one per code, ever. */
export const voucherRedemptionKey = (codeId: number) => `voucher:${codeId}`;

export type RedemptionResult =
  | { outcome: 'redeemed'; value: Hundredths; balance: Hundredths }
  /** Not the shape of a code: nothing was looked up or counted. */
  | { outcome: 'malformed' }
  /** No code has this hash. */
  | { outcome: 'unknown' }
  /** A code that exists but cannot be redeemed, with its last day when it expired. */
  | { outcome: 'refused'; reason: VoucherRefusal; expiresOn: DayKey; redeemedAt: Date | null }
  /** Too many failures by this person or from this address: nothing was checked. */
  | { outcome: 'throttled'; retryAfterSeconds: number };

/** Thrown inside the redemption's transaction to roll it back when the code was taken or its batch voided meanwhile. */
class LostRace extends Error {}

/**
 * A person redeems a code typed on the top-up page. Every attempt is counted as a failure of the
 * person and the address before the code is looked at (in its own transaction, so parallel guesses
 * cannot outrun the limits) and forgiven when the code is redeemed. The redemption is one database
 * transaction: the code claimed by a guarded update (only if unredeemed), its batch's counters moved
 * (only if not voided), one ledger posting `system:vouchers` → the person keyed on the code's id, and
 * the code given that posting. Any of the three finding the race lost rolls it all back.
 */
export function createVoucherRedemption({ db, clock, timeZone }: { db: Database; clock: Clock; timeZone: string }) {
  const keptMs = longestRedemptionWindowMs();
  let purgeDueAt = 0;

  async function attempt(user: Pick<User, 'id' | 'username'>, codeId: number, batchId: number, now: Date): Promise<RedemptionResult> {
    const today = dayOf(now, timeZone);
    return db.transaction(async (trx) => {
      const batch = await findVoucherBatch(trx, batchId);
      if (!batch) throw new Error(`voucher code ${codeId} has no batch ${batchId}`);
      const code = await findCode(trx, codeId);
      const reason = voucherRefusal({ redeemedBy: code?.redeemedBy ?? null, replacedAt: code?.replacedAt ?? null }, batch, { today, userId: user.id });
      if (reason) return { outcome: 'refused' as const, reason, expiresOn: batch.expiresOn, redeemedAt: code?.redeemedAt ?? null };
      if (!(await claimCode(trx, codeId, user.id, now)) || !(await countBatchRedemption(trx, batchId, batch.value))) throw new LostRace();
      const account = await lockPersonAccount(trx, user.id);
      if (!account) throw new LedgerError('account_not_found', `user ${user.id} has no account`);
      const system = await getAccountByCode(trx, SystemAccount.vouchers);
      const { transactionId, replayed } = await postTransaction(
        trx,
        {
          idempotencyKey: voucherRedemptionKey(codeId),
          kind: 'voucher',
          lines: [
            { accountId: system.id, amount: -batch.value },
            { accountId: account.id, amount: batch.value },
          ],
          description: batch.name,
          createdBy: user.id,
        },
        now,
      );
      // The code was unredeemed a statement ago: a posting already under its key would be a bug, not a race.
      if (replayed) throw new Error(`voucher code ${codeId} already has ledger transaction ${transactionId}`);
      await recordCodeTransaction(trx, codeId, transactionId);
      // The account is locked: its balance now is the one read plus the code's value.
      return { outcome: 'redeemed' as const, value: batch.value, balance: account.balance + batch.value };
    });
  }

  return async function redeem(user: Pick<User, 'id' | 'username'>, typed: unknown, ip: string): Promise<RedemptionResult> {
    const code = normaliseVoucherCode(typed);
    if (!code) return { outcome: 'malformed' };
    const now = clock.now();
    const nowMs = now.getTime();
    if (nowMs >= purgeDueAt) {
      purgeDueAt = nowMs + PURGE_INTERVAL_MS;
      // Housekeeping: its failure (a deadlock against another instance's purge) must not fail this redemption.
      await purgeRedemptionAttempts(db.knex, nowMs - keptMs).catch(() => undefined);
    }
    const keys = redemptionKeys(user.id, loginSource(ip));
    const { waitMs, attemptIds } = await countRedemptionAttempt(db, [keys.person, keys.address], { now: nowMs, since: nowMs - keptMs }, (failures) =>
      redemptionWaitMs({ person: failures.get(keys.person) ?? [], address: failures.get(keys.address) ?? [] }, nowMs),
    );
    if (waitMs > 0) return { outcome: 'throttled', retryAfterSeconds: Math.ceil(waitMs / 1000) };

    const found = await findCodeByHash(db.knex, voucherCodeHash(code));
    if (!found) return { outcome: 'unknown' };
    let result: RedemptionResult;
    try {
      result = await attempt(user, found.id, found.batchId, now);
    } catch (error) {
      if (!(error instanceof LostRace)) throw error;
      // Rolled back: read again what won (another redemption, or a void) and say so.
      result = await attempt(user, found.id, found.batchId, now);
      if (result.outcome === 'redeemed') throw new Error(`voucher code ${found.id} redeemed after a lost race`);
    }
    if (result.outcome === 'redeemed') await forgiveRedemptionAttempt(db.knex, attemptIds);
    return result;
  };
}

export type VoucherRedemption = ReturnType<typeof createVoucherRedemption>;
