const FIRST_RETRY_MS = 60_000;
const LONGEST_WAIT_MS = 3600_000;

/**
 * How long to wait after the `attempts`-th failed attempt: 1 minute, doubling, at most an hour. A
 * short outage (a restarted mail server) is bridged within minutes; a long one costs a try an hour.
 */
export function retryDelayMs(attempts: number): number {
  const doublings = Math.max(0, Math.min(attempts - 1, 12));
  return Math.min(FIRST_RETRY_MS * 2 ** doublings, LONGEST_WAIT_MS);
}

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
