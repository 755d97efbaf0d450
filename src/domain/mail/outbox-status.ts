/**
 * Where a mail of the outbox is: `pending` and `sending` are the queue; `kept` is what
 * `MAIL_DELIVERY=keep` holds for the admin mailbox instead of sending; `failed` gave up and waits for
 * an admin. The same list is the table's CHECK (migrations/20261127090000_receipts.ts).
 */
export const MAIL_STATUSES = ['pending', 'sending', 'sent', 'kept', 'failed'] as const;
export type MailStatus = (typeof MAIL_STATUSES)[number];
