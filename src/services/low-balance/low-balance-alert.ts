import type { Database } from '../../db/database.js';
import { findAccountByUserId, type Account } from '../../db/ledger/ledger-repository.js';
import { findThreshold, removeAlert, saveAlert } from '../../db/low-balance/alert-repository.js';
import { LedgerError, type Hundredths } from '../../domain/ledger/ledger.js';
import { isBalanceLow, parseThreshold } from '../../domain/low-balance/low-balance.js';
import type { Locale } from '../../domain/shared/locale.js';
import type { Clock } from '../../domain/time/clock.js';

export interface LowBalanceSettings {
  balance: Hundredths;
  /** Null: the alert is off. */
  threshold: Hundredths | null;
  /** The balance is already below the threshold: the next alert needs a top-up first. */
  low: boolean;
}

/**
 * A person's low-balance alert: the threshold they choose, or none. The mail itself is queued by the
 * ledger's posting (db/ledger/ledger-repository.ts), which reads the threshold with the balance.
 */
export function createLowBalanceAlerts({ db, clock }: { db: Database; clock: Clock }) {
  async function accountOf(userId: number): Promise<Account> {
    const account = await findAccountByUserId(db.knex, userId);
    if (!account) throw new LedgerError('account_not_found', `user ${userId} has no account`);
    return account;
  }

  return {
    async settings(userId: number): Promise<LowBalanceSettings> {
      const account = await accountOf(userId);
      const threshold = await findThreshold(db.knex, account.id);
      return { balance: account.balance, threshold, low: isBalanceLow(account.balance, threshold) };
    },

    /** Sets the threshold typed in the form (LowBalanceError when it cannot be one), in the language of the page it was set on. */
    async choose(userId: number, typed: unknown, locale: Locale): Promise<Hundredths> {
      const threshold = parseThreshold(typed);
      await saveAlert(db.knex, (await accountOf(userId)).id, { threshold, locale }, clock.now());
      return threshold;
    },

    /** Answers whether the alert was on. */
    async turnOff(userId: number): Promise<boolean> {
      return removeAlert(db.knex, (await accountOf(userId)).id);
    },
  };
}

export type LowBalanceAlerts = ReturnType<typeof createLowBalanceAlerts>;
