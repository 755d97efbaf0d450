import { isUniqueViolation, type Database } from '../db/database.js';
import {
  countAccountEntries,
  findAccountByUserId,
  listAccountHistory,
  postTransaction,
  reverseTransaction,
  type Account,
  type HistoryRow,
  type PostResult,
} from '../db/ledger-repository.js';
import type { Clock } from './clock.js';
import { LedgerError, type TransactionRequest } from './ledger.js';

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
    /** A person's account and one page of its history; a page past the end shows the last one. */
    async accountPage(userId: number, requestedPage: number): Promise<AccountPage> {
      const account = await userAccount(userId);
      const total = await countAccountEntries(db.knex, account.id);
      const pageCount = Math.max(1, Math.ceil(total / HISTORY_PAGE_SIZE));
      const page = Math.min(Math.max(1, requestedPage), pageCount);
      const history = await listAccountHistory(db.knex, account.id, { limit: HISTORY_PAGE_SIZE, offset: (page - 1) * HISTORY_PAGE_SIZE });
      return { account, history, page, pageCount };
    },
  };
}

export type Ledger = ReturnType<typeof createLedger>;
