import { countAccountEntries, listAccountHistory, usedUnitsByCategory, type HistoryRow } from '../../db/ledger/account-history-repository.js';
import { isUniqueViolation, type Database } from '../../db/database.js';
import { findAccountByUserId, postTransaction, reverseTransaction, type Account, type PostResult } from '../../db/ledger/ledger-repository.js';
import type { HistoryFilter } from '../../domain/ledger/account-history.js';
import type { Clock } from '../../domain/time/clock.js';
import { LedgerError, USAGE_CATEGORIES, type TransactionRequest } from '../../domain/ledger/ledger.js';
import { summarizeUsage, type UsageSummary } from '../../domain/ledger/usage-summary.js';

export const HISTORY_PAGE_SIZE = 20;

export interface AccountPage {
  account: Account;
  history: HistoryRow[];
  page: number;
  pageCount: number;
}

/** The ledger as the rest of the portal uses it: each call is one database transaction. */
export function createLedger({ db, clock }: { db: Database; clock: Clock }) {
  async function userAccount(userId: number): Promise<Account> {
    const account = await findAccountByUserId(db.knex, userId);
    if (!account) throw new LedgerError('account_not_found', `user ${userId} has no account`);
    return account;
  }

  return {
    post(request: TransactionRequest): Promise<PostResult> {
      return db.transaction((trx) => postTransaction(trx, request, clock.now()));
    },
    async reverse(request: Parameters<typeof reverseTransaction>[1]): Promise<PostResult> {
      const attempt = () => db.transaction((trx) => reverseTransaction(trx, request, clock.now()));
      try {
        return await attempt();
      } catch (error) {
        // Another reversal of the same transaction committed first (unique reverses_transaction_id):
        // once more, the checks see it and answer already_reversed, or a replay for the same key.
        if (!isUniqueViolation(error)) throw error;
        return attempt();
      }
    },
    userAccount,
    /** A person's account and one page of its history as filtered; a page past the end shows the last one. */
    async accountPage(userId: number, requestedPage: number, filter: HistoryFilter = {}): Promise<AccountPage> {
      const account = await userAccount(userId);
      const total = await countAccountEntries(db.knex, account.id, filter);
      const pageCount = Math.max(1, Math.ceil(total / HISTORY_PAGE_SIZE));
      const page = Math.min(Math.max(1, requestedPage), pageCount);
      const history = await listAccountHistory(db.knex, account.id, { ...filter, limit: HISTORY_PAGE_SIZE, offset: (page - 1) * HISTORY_PAGE_SIZE });
      return { account, history, page, pageCount };
    },
    /** Units the account used per category in the filter's period; top-ups use nothing, one category only itself. */
    async usageSummary(accountId: number, filter: HistoryFilter = {}): Promise<UsageSummary> {
      const categories = filter.category === undefined ? USAGE_CATEGORIES : filter.category === 'top_up' ? [] : [filter.category];
      return summarizeUsage(await usedUnitsByCategory(db.knex, accountId, categories, filter));
    },
  };
}

export type Ledger = ReturnType<typeof createLedger>;
