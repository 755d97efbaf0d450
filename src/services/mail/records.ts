/** What the web layer reads or writes of mail as it is stored (no rule or transaction involved), so that web reaches the database through services only. */
export { findMail, listMails, type OutboxMail } from '../../db/mail/mail-outbox-repository.js';
export { MAIL_STATUSES, type MailStatus } from '../../domain/mail/outbox-status.js';
