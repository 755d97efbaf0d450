import type { PortalAnswer, PortalClient } from './portal-client.js';
import type { Spool } from './spool.js';

export interface ReplayReport {
  /** Left in printing/ by a backend that died while its job printed: sent like the others. */
  adopted: string[];
  /** Debited now. */
  sent: string[];
  /** Recharge had them already (a run before this one was cut after sending). */
  alreadyDebited: string[];
  /** Refused for good, moved to failed/. */
  failed: Array<{ name: string; reason: string }>;
  /** Still pending, and why the replay stopped: Recharge unreachable, or the API key refused. */
  left: string[];
  stoppedBecause: string | null;
}

/** Answers that say this very debit is in Recharge already: same reference, or same Idempotency-Key. */
const ALREADY_DEBITED = new Set(['reference-in-use', 'idempotency-key-reused']);
export const isAlreadyDebited = (answer: PortalAnswer<unknown>) => answer.outcome === 'refused' && answer.problemType !== null && ALREADY_DEBITED.has(answer.problemType);

/**
 * Sends the pending debits oldest first, and stops at the first that cannot be sent now, so that
 * debits always reach Recharge in the order the jobs printed.
 */
export async function replaySpool(spool: Spool, portal: PortalClient): Promise<ReplayReport> {
  const report: ReplayReport = { adopted: await spool.adoptOrphans(), sent: [], alreadyDebited: [], failed: [], left: [], stoppedBecause: null };
  const entries = await spool.list();
  for (const [index, { name, debit }] of entries.entries()) {
    const answer = await portal.debit(debit.username, debit.body, debit.idempotencyKey);
    if (answer.outcome === 'unreachable' || (answer.outcome === 'refused' && answer.status === 401)) {
      report.stoppedBecause = answer.outcome === 'unreachable' ? `Recharge unreachable (${answer.reason})` : 'the API key was refused';
      report.left = entries.slice(index).map((entry) => entry.name);
      break;
    }
    if (answer.outcome === 'ok') {
      await spool.remove(name);
      report.sent.push(name);
    } else if (isAlreadyDebited(answer)) {
      await spool.remove(name);
      report.alreadyDebited.push(name);
    } else {
      await spool.moveToFailed(name);
      const reason = answer.outcome === 'not-found' ? `no account "${debit.username}"` : `HTTP ${answer.status} ${answer.problemType ?? ''}${answer.detail ? `: ${answer.detail}` : ''}`.trim();
      report.failed.push({ name, reason });
    }
  }
  return report;
}
