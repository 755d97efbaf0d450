import type { Logger } from 'pino';
import type { Database } from '../../db/database.js';
import {
  claimTransfer,
  finishTransferAttempt,
  listAbandonedTransfers,
  listDueTransferIds,
  readCreditDestination,
  recordTransferEvent,
  renewLease,
  takeOverAbandonedTransfer,
  type CreditTransfer,
  type TransferAttemptEnd,
} from '../../db/credit-transfers/transfer-repository.js';
import { afterDeliveryFailure, transferComment, transferEventId } from '../../domain/credit-transfers/transfers.js';
import type { Clock } from '../../domain/time/clock.js';
import type { CreditDestination } from '../../print-systems/credit-destination.js';
import { PrintSystemError } from '../../print-systems/print-system-error.js';
import { createSerialRuns } from '../outbox/serial-runs.js';

export interface TransferDeliveryDependencies {
  db: Database;
  clock: Clock;
  logger: Logger;
  destination: CreditDestination;
  giveUpAfterMs: number;
  /** Deliver as soon as something is posted (kick), besides the timer. */
  deliverOnPosting: boolean;
  /** How long a claimed transfer is ours; longer than any attempt (two calls with their timeouts). */
  leaseMs: number;
  /** Told of each transfer applied by an attempt (the balances shown to the person are then out of date). */
  onDelivered?: (username: string) => void;
}

export interface TransferCounts {
  delivered: number;
  retrying: number;
  parked: number;
  unknown: number;
}

const BATCH = 20;

const asPrintSystemError = (error: unknown) =>
  // Anything else thrown while sending (a bug) is treated as the worst case: perhaps applied.
  error instanceof PrintSystemError ? error : new PrintSystemError('unknown_outcome', error instanceof Error ? error.message : String(error));

/**
 * Delivers the transfers the ledger queued (docs/architecture.md, "Credits in the print system"). Each
 * attempt first claims its transfer and commits `delivering` with a lease, then reads the person's
 * balance there (evidence for an admin, and proof the system answers before anything is sent), then
 * sends once. A definite success is recorded once; what was not applied is retried or parked; a lost
 * answer becomes `unknown` and is never sent again without an admin, unless the destination deduplicates.
 * A holder that dies mid-attempt leaves `delivering` with a lease that runs out: the next run makes it
 * `unknown` (or, deduplicating, `pending`), never sends it blindly.
 */
export function createTransferDelivery(deps: TransferDeliveryDependencies) {
  const { db, clock, logger, destination } = deps;
  const traits = { deduplicates: destination.deduplicates, giveUpAfterMs: deps.giveUpAfterMs };

  /** How the attempt ended; null when it lost the transfer before sending (it sent nothing and records nothing). */
  async function attempt(transfer: CreditTransfer): Promise<TransferAttemptEnd | null> {
    const failed = (error: PrintSystemError, balanceBefore: number | null, balanceAfter: number | null): Promise<TransferAttemptEnd> => {
      const end = afterDeliveryFailure({ kind: error.kind, reason: error.details.reason, error: error.message, attempts: transfer.attempts, triesSince: transfer.triesSince }, clock.now(), traits);
      return recordEnd(transfer, end, { balanceBefore, balanceAfter });
    };
    let balanceBefore: number | null = null;
    if (destination.readBalance) {
      try {
        balanceBefore = await destination.readBalance(transfer.username);
      } catch (error) {
        // Nothing was sent: whatever the reading's failure, the transfer itself is certainly not applied.
        const reading = asPrintSystemError(error);
        const kind = reading.kind === 'definite_fault' ? 'definite_fault' : 'not_sent';
        return failed(new PrintSystemError(kind, `before sending, reading the balance failed: ${reading.message}`, reading.details), null, null);
      }
    }
    const now = clock.now();
    const stillHeld = await db.transaction(async (trx) => {
      if (!(await renewLease(trx, transfer, now, deps.leaseMs))) return false;
      await recordTransferEvent(trx, { transferId: transfer.id, event: 'attempt', attempt: transfer.attempts, balanceBefore }, now);
      return true;
    });
    if (!stillHeld) {
      // Stalled past the lease and taken over meanwhile: what happens to the transfer is no longer this attempt's to decide.
      logger.warn({ transferId: transfer.id }, 'credit transfer taken over before it was sent: not sent by this attempt');
      return null;
    }
    try {
      await destination.send({
        eventId: transferEventId(transfer.id),
        ledgerTransactionId: transfer.ledgerTransactionId,
        transactionKind: transfer.transactionKind,
        username: transfer.username,
        amount: transfer.amount,
        comment: transferComment(transfer.ledgerTransactionId, transfer.description),
        postedAt: transfer.createdAt,
      });
    } catch (error) {
      const failure = asPrintSystemError(error);
      logger.warn({ transferId: transfer.id, kind: failure.kind, reason: failure.details.reason, error: failure.message }, 'credit transfer not delivered');
      const balanceAfter = failure.kind === 'unknown_outcome' ? await readBalanceQuietly(transfer.username) : null;
      return failed(failure, balanceBefore, balanceAfter);
    }
    deps.onDelivered?.(transfer.username);
    return recordEnd(transfer, { state: 'delivered' }, { balanceBefore, balanceAfter: null });
  }

  /** The balance after a lost answer, for the admin who decides: best effort, the system may still be down. */
  async function readBalanceQuietly(username: string): Promise<number | null> {
    try {
      return (await destination.readBalance?.(username)) ?? null;
    } catch {
      return null;
    }
  }

  async function recordEnd(transfer: CreditTransfer, end: TransferAttemptEnd, balances: { balanceBefore: number | null; balanceAfter: number | null }): Promise<TransferAttemptEnd> {
    const now = clock.now();
    const event = end.state === 'delivered' ? 'delivered' : end.state === 'pending' ? 'retry' : end.state;
    const error = end.state === 'delivered' ? null : end.error;
    // The state and its event commit together: nobody reads an outcome without its history.
    const kept = await db.transaction(async (trx) => {
      const finished = await finishTransferAttempt(trx, transfer, end, now);
      // Recorded even when the lease was lost meanwhile: what this attempt learnt is the admin's evidence.
      const detail = finished ? error : `${error ?? 'applied'} (recorded after this attempt's lease ran out; the transfer was taken over)`;
      await recordTransferEvent(trx, { transferId: transfer.id, event, attempt: transfer.attempts, detail, ...balances }, now);
      return finished;
    });
    if (!kept) logger.warn({ transferId: transfer.id, outcome: end.state }, 'credit transfer lease ran out before the attempt ended');
    return end;
  }

  async function takeOverAbandoned(): Promise<number> {
    const abandoned = await listAbandonedTransfers(db.knex, clock.now(), BATCH);
    let madeUnknown = 0;
    for (const { id, attempts, destination: queuedFor } of abandoned) {
      // Sent again on its own only by its destination, and only when that destination deduplicates.
      const state = queuedFor === destination.kind && destination.deduplicates ? 'pending' : 'unknown';
      const error = 'the attempt was interrupted (process stopped or hung) after it was claimed: it may have been sent';
      const now = clock.now();
      const taken = await db.transaction(async (trx) => {
        if (!(await takeOverAbandonedTransfer(trx, id, state, error, now))) return false;
        await recordTransferEvent(trx, { transferId: id, event: 'interrupted', attempt: attempts, detail: error }, now);
        return true;
      });
      if (!taken) continue;
      logger.warn({ transferId: id, state }, 'credit transfer attempt was interrupted');
      if (state === 'unknown') madeUnknown += 1;
    }
    return madeUnknown;
  }

  async function deliverAll(): Promise<TransferCounts> {
    const counts: TransferCounts = { delivered: 0, retrying: 0, parked: 0, unknown: 0 };
    const recorded = await readCreditDestination(db.knex);
    if (recorded?.kind !== destination.kind || recorded.label !== destination.label) {
      // Another instance of this database started with another CREDIT_DESTINATION: postings follow its choice.
      logger.error({ recorded: recorded?.label ?? 'the ledger alone', configured: destination.label }, 'the credit destination recorded in the database is not this instance\'s: new credits are not queued for it; configure every instance alike');
    }
    counts.unknown += await takeOverAbandoned();
    // A transfer looked at once is not taken again in the same run, whatever became of it.
    const seen = new Set<number>();
    for (;;) {
      const ids = (await listDueTransferIds(db.knex, destination.kind, clock.now(), BATCH + seen.size)).filter((id) => !seen.has(id));
      if (ids.length === 0) return counts;
      for (const id of ids) {
        seen.add(id);
        const transfer = await claimTransfer(db.knex, id, clock.now(), deps.leaseMs);
        if (!transfer) continue; // another run or instance has it
        const end = await attempt(transfer);
        if (end) counts[end.state === 'pending' ? 'retrying' : end.state] += 1;
      }
    }
  }

  const runs = createSerialRuns(deliverAll, {
    logger,
    done: (counts) => {
      if (Object.values(counts).some((count) => count > 0)) logger.info(counts, 'credit transfers delivered');
    },
    failure: 'credit transfer delivery failed',
  });

  return {
    destination,
    deliverDue: runs.runDue,
    /** After a posting: deliver on the next tick. Never throws, never makes the caller wait. */
    kick: () => {
      if (deps.deliverOnPosting) runs.kick();
    },
    idle: runs.idle,
  };
}

export type TransferDelivery = ReturnType<typeof createTransferDelivery>;
