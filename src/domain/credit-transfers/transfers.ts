import type { TransactionKind } from '../ledger/ledger.js';
import { retryDelayMs } from '../shared/retry-delay.js';

/**
 * Where a transfer of credit to the print system is (docs/architecture.md, "Credits in the print system"):
 * `pending` waits for its (next) attempt; `delivering` is held by one attempt under a lease; `delivered`
 * was applied once; `parked` was refused for a reason an admin must mend; `unknown` was sent and its
 * answer lost, so it may or may not have been applied: only an admin decides. The table's CHECK has the
 * same list (migrations/20261211090000_credit_transfers.ts).
 */
export const TRANSFER_STATES = ['pending', 'delivering', 'delivered', 'parked', 'unknown'] as const;
export type TransferState = (typeof TRANSFER_STATES)[number];

/** The outside systems credits can go to besides the ledger. */
export const CREDIT_DESTINATION_KINDS = ['papercut', 'webhook'] as const;
export type CreditDestinationKind = (typeof CREDIT_DESTINATION_KINDS)[number];

/**
 * Whether a posting of `kind` changes a person's balance from the portal's side, and so goes to the
 * print system too: top-ups (with their bonus), refunds' and chargebacks' take-backs, admins' and
 * welcome credits, quotes paid with units, and the reversal of any of them. Usage is the print
 * system's own (it charged the job), and so is the reversal of a usage.
 */
export function isTransferredToDestination(kind: TransactionKind, reversedKind: TransactionKind | null): boolean {
  if (kind === 'usage') return false;
  return !(kind === 'reversal' && reversedKind === 'usage');
}

/**
 * How a delivery failed, by what it means for an operation the other side cannot recognise twice:
 * `definite_fault` (refused, so not applied; `reason` says why), `not_sent` (never left), `unknown_outcome`
 * (sent, no readable answer: perhaps applied). The print systems' errors carry the same words.
 */
export type DeliveryFailureKind = 'definite_fault' | 'not_sent' | 'unknown_outcome';
export type DeliveryFaultReason = 'unknown_user' | 'access_denied' | 'refused';

export interface DeliveryFailure {
  kind: DeliveryFailureKind;
  reason?: DeliveryFaultReason;
  error: string;
  /** Attempts made so far, this one included. */
  attempts: number;
  /** When the transfer was queued or put back by an admin: the give-up deadline counts from there. */
  triesSince: Date;
}

export interface DestinationTraits {
  /** The other side recognises a transfer sent twice (the webhook's event id): a lost answer may be sent again. */
  deduplicates: boolean;
  /** A transfer still refused or unreachable this long after it was queued is parked at its next failure. */
  giveUpAfterMs: number;
}

export type FailedDeliveryOutcome =
  | { state: 'pending'; nextAttemptAt: Date; error: string }
  | { state: 'parked' | 'unknown'; error: string };

/**
 * What becomes of a transfer whose attempt failed. The rule that keeps a credit from being applied twice:
 * an answer lost after sending is never sent again unless the other side deduplicates; it waits as
 * `unknown` for an admin. What was not applied is tried again with a growing delay while the cause may
 * mend by itself (the system down or unreachable, its token or address refused: fixed in its settings),
 * and parked at once when a person must act (the person unknown there, anything else it refused).
 */
export function afterDeliveryFailure(failure: DeliveryFailure, now: Date, traits: DestinationTraits): FailedDeliveryOutcome {
  const { error } = failure;
  if (failure.kind === 'unknown_outcome' && !traits.deduplicates) return { state: 'unknown', error };
  if (failure.kind === 'definite_fault' && failure.reason !== 'access_denied') return { state: 'parked', error };
  if (now.getTime() - failure.triesSince.getTime() > traits.giveUpAfterMs) return { state: 'parked', error };
  return { state: 'pending', error, nextAttemptAt: new Date(now.getTime() + retryDelayMs(failure.attempts)) };
}

/** The comment a transfer carries in the print system's log: our transaction, and the order's number when there is one. */
export function transferComment(ledgerTransactionId: number, description: string | null): string {
  const about = description?.trim() ? ` ${description.trim().slice(0, 120)}` : '';
  return `Recharge #${ledgerTransactionId}${about}`;
}

/** The id the webhook destination sends with each transfer: the same on every attempt, for the receiver to deduplicate on. */
export const transferEventId = (transferId: number) => `recharge-transfer-${transferId}`;
