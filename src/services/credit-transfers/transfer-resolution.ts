import { recordAudit } from '../../db/audit/audit-repository.js';
import type { Database } from '../../db/database.js';
import { recordTransferEvent, resolveTransfer, type CreditTransfer } from '../../db/credit-transfers/transfer-repository.js';
import type { AuditActor } from '../../domain/audit/audit.js';

/** `applied`: the credit is in the print system (it was, or the admin made it by hand); `send_again`: it is not, send it now. */
export type TransferDecision = 'applied' | 'send_again';

/**
 * An admin's decision on a parked or unknown transfer, with their reason; the change, its event in the
 * transfer's history and the audit row commit together. A compare-and-set on the state the admin saw:
 * when another admin (or the worker) changed it meanwhile, nothing is written and the answer is false.
 */
export async function resolveCreditTransfer(
  db: Database,
  request: { transfer: CreditTransfer; decision: TransferDecision; reason: string; actor: AuditActor },
  now: Date,
): Promise<boolean> {
  const { transfer, decision, reason, actor } = request;
  return db.transaction(async (trx) => {
    if (!(await resolveTransfer(trx, transfer, decision === 'applied' ? 'delivered' : 'pending', now))) return false;
    await recordTransferEvent(trx, { transferId: transfer.id, event: decision === 'applied' ? 'marked_applied' : 'sent_again', detail: reason, actorId: actor.id }, now);
    await recordAudit(
      trx,
      {
        actor,
        action: decision === 'applied' ? 'credit-transfer.mark-applied' : 'credit-transfer.send-again',
        target: `#${transfer.id} ${transfer.username}`,
        before: { state: transfer.state, attempts: transfer.attempts, lastError: transfer.lastError },
        after: { state: decision === 'applied' ? 'delivered' : 'pending', reason },
      },
      now,
    );
    return true;
  });
}
