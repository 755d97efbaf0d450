/** What the web layer reads or writes of ledger as it is stored (no rule or transaction involved), so that web reaches the database through services only. */
export { type HistoryRow, type RefusedJobRow, listAccountHistory } from '../../db/ledger/account-history-repository.js';
