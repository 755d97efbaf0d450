/** What the web layer reads of quotes as they are stored (no rule or transaction involved), so that web reaches the database through services only. */
export { findQuote, findQuoteIdByNumber } from '../../db/quotes/quote-repository.js';
