import type { Logger } from 'pino';

interface Waiting<T> {
  resolve(result: T): void;
  reject(error: unknown): void;
  promise: Promise<T>;
}

function waiting<T>(): Waiting<T> {
  let resolve!: Waiting<T>['resolve'];
  let reject!: Waiting<T>['reject'];
  const promise = new Promise<T>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });
  return { resolve, reject, promise };
}

export interface SerialRuns<T> {
  /** Runs now, or, asked during a run, once more after it (it may find new work); callers asked meanwhile share that next run. */
  runDue(): Promise<T>;
  /** Runs on the next tick. Never throws, never makes the caller wait: the outcome goes to the log. */
  kick(): void;
  /** Resolves when no run is going or asked for (shutdown, tests). */
  idle(): Promise<void>;
}

/**
 * One run at a time in this process of an outbox's delivery (mails, credit transfers): the outbox rows'
 * claims keep instances apart; this keeps one process from running over itself.
 */
export function createSerialRuns<T>(run: () => Promise<T>, report: { logger: Logger; done: (result: T) => void; failure: string }): SerialRuns<T> {
  let running: Promise<T> | undefined;
  let next: Waiting<T> | undefined;

  function runDue(): Promise<T> {
    if (running) {
      next ??= waiting<T>();
      return next.promise;
    }
    const current = run();
    running = current;
    current.then(afterRun, afterRun);
    return current;
  }

  function afterRun() {
    running = undefined;
    const queued = next;
    next = undefined;
    if (queued) runDue().then(queued.resolve, queued.reject);
  }

  let kicked: Promise<void> | undefined;
  const kick = () => {
    if (kicked) return;
    kicked = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => {
        kicked = undefined;
        return runDue();
      })
      .then(report.done, (error: unknown) => report.logger.error({ err: error }, report.failure));
  };

  return {
    runDue,
    kick,
    async idle() {
      while (kicked || running) await (kicked ?? running)?.catch(() => undefined);
    },
  };
}
