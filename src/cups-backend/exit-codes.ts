/**
 * What a CUPS backend's exit status tells the scheduler (cups/backend.h, backend(7)). The names are
 * CUPS's own `CUPS_BACKEND_*`, so the source reads like the manual.
 */
export const BackendExit = {
  /** The job is done. */
  OK: 0,
  /** Failed: the queue's printer-error-policy decides (stopped queue by default). */
  FAILED: 1,
  AUTH_REQUIRED: 2,
  /** The job is held until an operator releases it. */
  HOLD: 3,
  /** The queue is stopped, the job stays pending. */
  STOP: 4,
  /** The job is cancelled. */
  CANCEL: 5,
  /** The job is held 5 minutes, then tried again. */
  RETRY: 6,
  RETRY_CURRENT: 7,
} as const;

export type BackendExitCode = (typeof BackendExit)[keyof typeof BackendExit];
