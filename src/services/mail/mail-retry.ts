import type { Database } from '../../db/database.js';
import { recordAudit } from '../../db/audit/audit-repository.js';
import { requeueFailedMail, type OutboxMail } from '../../db/mail/mail-outbox-repository.js';
import type { AuditActor } from '../../domain/audit/audit.js';

/**
 * An admin's "send again" on a failed mail: it goes back to the queue with a fresh give-up clock.
 * The change and its audit row commit together; the compare-and-set refuses a mail that is no longer
 * failed (another admin retried it first), leaving both untouched: false then.
 */
export async function retryFailedMail(db: Database, mail: OutboxMail, actor: AuditActor, now: Date): Promise<boolean> {
  return db.transaction(async (trx) => {
    if (!(await requeueFailedMail(trx, mail.id, now))) return false;
    const before = { status: mail.status, attempts: mail.attempts, lastError: mail.lastError };
    await recordAudit(trx, { actor, action: 'mail.retry', target: mail.documentNumber ?? `mail:${mail.id}`, before, after: { status: 'pending' } }, now);
    return true;
  });
}
