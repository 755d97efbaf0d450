import { retryDelayMs } from '../shared/retry-delay.js';

/** How one delivery attempt of a queued mail ended: what the outbox records. */
export type AttemptOutcome =
  | { status: 'sent' | 'kept' }
  | { status: 'pending'; nextAttemptAt: Date; error: string }
  | { status: 'failed'; error: string };

export interface FailedAttempt {
  /** The server refused this mail for good (e.g. 550 unknown recipient): trying again would be refused too. */
  permanent: boolean;
  error: string;
  /** Attempts made so far, this one included. */
  attempts: number;
  /** When the mail was queued or put back by an admin: the give-up deadline counts from there. */
  triesSince: Date;
}

/** What becomes of a mail whose attempt failed: tried again later, or failed for an admin to look at. */
export function afterFailure(failure: FailedAttempt, now: Date, giveUpAfterMs: number): AttemptOutcome {
  if (failure.permanent || now.getTime() - failure.triesSince.getTime() > giveUpAfterMs) return { status: 'failed', error: failure.error };
  return { status: 'pending', error: failure.error, nextAttemptAt: new Date(now.getTime() + retryDelayMs(failure.attempts)) };
}
