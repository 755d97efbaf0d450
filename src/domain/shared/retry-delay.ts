const FIRST_RETRY_MS = 60_000;
const LONGEST_WAIT_MS = 3600_000;

/**
 * How long to wait after the `attempts`-th failed attempt to reach an outside system (a mail server,
 * a print system): 1 minute, doubling, at most an hour. A short outage (a restarted server) is bridged
 * within minutes; a long one costs a try an hour.
 */
export function retryDelayMs(attempts: number): number {
  const doublings = Math.max(0, Math.min(attempts - 1, 12));
  return Math.min(FIRST_RETRY_MS * 2 ** doublings, LONGEST_WAIT_MS);
}
