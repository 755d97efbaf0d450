import { listAccountHistory, listRefusedJobs, type HistoryRow, type RefusedJobRow } from '../../db/ledger/account-history-repository.js';
import { readActivity } from '../../db/ledger/account-activity-repository.js';
import { isUniqueViolation, type Database } from '../../db/database.js';
import { findAccountByUserId, postTransaction, reverseTransaction, type Account, type PostResult } from '../../db/ledger/ledger-repository.js';
import { bucketRanges, type ActivityClass } from '../../domain/ledger/account-activity.js';
import type { HistoryFilter } from '../../domain/ledger/account-history.js';
import type { Clock } from '../../domain/time/clock.js';
import { LedgerError, USAGE_CATEGORIES, type TransactionRequest } from '../../domain/ledger/ledger.js';
import { summarizeUsage, type UsageSummary } from '../../domain/ledger/usage-summary.js';

export const HISTORY_PAGE_SIZE = 20;

/** The lines of recent activity the account page shows before its link to the whole history. */
export const RECENT_ACTIVITY_SIZE = 6;

/** The refused jobs the history page lists for its period: the newest, a few, since nothing was taken for them. */
export const REFUSED_JOBS_SHOWN = 20;

export interface HistoryPage {
  history: HistoryRow[];
  page: number;
  pageCount: number;
  /** Units used per category in the filter's period; top-ups use nothing, one category only itself. */
  usage: UsageSummary;
}

export interface AccountPage extends HistoryPage {
  account: Account;
}

/** The ledger as the rest of the portal uses it: each call is one database transaction. */
export function createLedger({ db, clock }: { db: Database; clock: Clock }) {
  async function userAccount(userId: number): Promise<Account> {
    const account = await findAccountByUserId(db.knex, userId);
    if (!account) throw new LedgerError('account_not_found', `user ${userId} has no account`);
    return account;
  }

  /**
   * How many entries of a person's account the filter keeps, and the units they used per category in
   * its period (top-ups use nothing, one category only itself): read from the account's activity
   * (db/ledger/account-activity-repository.ts) in one statement, whatever the length of the history.
   */
  async function accountActivity(accountId: number, filter: HistoryFilter = {}): Promise<{ entries: number; usage: UsageSummary }> {
    const counted: ActivityClass = filter.category ?? 'all';
    const categories = filter.category === undefined ? USAGE_CATEGORIES : filter.category === 'top_up' ? [] : [filter.category];
    const activity = await readActivity(db.knex, accountId, [counted, ...categories.filter((category) => category !== counted)], bucketRanges(filter));
    return {
      entries: activity.get(counted)?.entries ?? 0,
      usage: summarizeUsage(Object.fromEntries(categories.map((category) => [category, activity.get(category)?.usedUnits ?? 0]))),
    };
  }

  /** One page of a person's account's history as filtered, with its usage summary; a page past the end shows the last one. */
  async function historyPage(accountId: number, requestedPage: number, filter: HistoryFilter = {}): Promise<HistoryPage> {
    const { entries, usage } = await accountActivity(accountId, filter);
    const pageCount = Math.max(1, Math.ceil(entries / HISTORY_PAGE_SIZE));
    const page = Math.min(Math.max(1, requestedPage), pageCount);
    const history = await listAccountHistory(db.knex, accountId, { ...filter, limit: HISTORY_PAGE_SIZE, offset: (page - 1) * HISTORY_PAGE_SIZE });
    return { history, page, pageCount, usage };
  }

  /**
   * The account page's overview: the newest entries, and the units used per category in `period`; two
   * statements, whatever the length of the history.
   */
  async function accountOverview(accountId: number, period: Pick<HistoryFilter, 'from' | 'until'>): Promise<{ recent: HistoryRow[]; usage: UsageSummary }> {
    const { usage } = await accountActivity(accountId, period);
    const recent = await listAccountHistory(db.knex, accountId, { limit: RECENT_ACTIVITY_SIZE });
    return { recent, usage };
  }

  /** The newest refused jobs of the filter's period and category (REFUSED_JOBS_SHOWN at most); one statement. */
  const refusedJobs = (accountId: number, filter: HistoryFilter = {}): Promise<RefusedJobRow[]> => listRefusedJobs(db.knex, accountId, { ...filter, limit: REFUSED_JOBS_SHOWN });

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
    accountActivity,
    historyPage,
    refusedJobs,
    accountOverview,
    /** A person's account and one page of its history, as `historyPage`. */
    async accountPage(userId: number, requestedPage: number, filter: HistoryFilter = {}): Promise<AccountPage> {
      const account = await userAccount(userId);
      return { account, ...(await historyPage(account.id, requestedPage, filter)) };
    },
  };
}

export type Ledger = ReturnType<typeof createLedger>;
