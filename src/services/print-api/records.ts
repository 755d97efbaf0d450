/** What the web layer reads or writes of print-api as it is stored (no rule or transaction involved), so that web reaches the database through services only. */
export { findActiveApiKey, recordApiKeyUse } from '../../db/print-api/api-key-repository.js';
export type { AccountHolder, UsageDebit } from '../../db/print-api/usage-repository.js';
export type { UsageRefusal } from '../../db/print-api/refusal-repository.js';
