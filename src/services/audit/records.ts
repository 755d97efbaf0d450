/** What the web layer reads or writes of audit as it is stored (no rule or transaction involved), so that web reaches the database through services only. */
export { listAudit, listAuditActions, recordAudit } from '../../db/audit/audit-repository.js';
