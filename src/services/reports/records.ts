/** What the web layer reads or writes of reports as it is stored (no rule or transaction involved), so that web reaches the database through services only. */
export { countOrdersIn, countUnmatchedWebhooks, quotePaymentTotals, recentPaymentProblems, topUpTotals, unitsOutstanding } from '../../db/reports/dashboard-repository.js';
export { exportedTransactionPages } from '../../db/reports/report-repository.js';
export { exportedQuotePages, quoteVatRatesIn } from '../../db/reports/quote-report-repository.js';
