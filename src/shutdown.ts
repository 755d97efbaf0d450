import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';

export interface ShutdownSteps {
  server: Server;
  logger: Logger;
  /** How long requests in flight and the work after them may take before the process exits anyway (code 1). */
  timeoutMs: number;
  /** Stops what would start new work (the reconciler's and mail delivery's timers, the metrics listener); called at once. */
  stopTimers(): void;
  /** Waits for work in progress and closes what the process holds; called once the last request has been answered. */
  release(): Promise<void>;
  exit(code: number): void;
}

/**
 * A second signal this soon after the first is the same request to stop, not a hurry: Ctrl-C in a
 * terminal signals the whole process group, so npm and the portal both get SIGINT and npm passes its
 * own on a few milliseconds later.
 */
const SIGNAL_ECHO_MS = 1_000;

/**
 * The process's way out on SIGTERM or SIGINT: no new connection is accepted, every request in flight
 * is answered and its connection then closed, the timers stop, work in progress finishes, the
 * database closes, exit code 0. Past `timeoutMs`, or at a second signal (a second or more after the
 * first), it exits at once with code 1.
 * Returns what a signal handler calls. Create it before the server takes requests: it counts them.
 */
export function createShutdown({ server, logger, timeoutMs, stopTimers, release, exit }: ShutdownSteps): (signal: NodeJS.Signals) => void {
  const inFlight = new Set<ServerResponse>();
  let stopping = false;
  server.on('request', (_request: IncomingMessage, response: ServerResponse) => {
    inFlight.add(response);
    if (stopping) closeConnectionAfter(response);
    response.once('close', () => {
      inFlight.delete(response);
      // A keep-alive connection would otherwise idle for keepAliveTimeout (5 s) and hold server.close() back.
      if (stopping) server.closeIdleConnections();
    });
  });

  let firstSignalAt = 0;
  return (signal) => {
    if (stopping && Date.now() - firstSignalAt < SIGNAL_ECHO_MS) {
      logger.debug({ signal }, 'the same stop asked again at once (Ctrl-C reaches npm and the portal both): still finishing the requests in flight');
      return;
    }
    if (stopping) {
      logger.warn({ signal, requestsInFlight: inFlight.size }, 'second signal: exiting at once, without waiting for the requests in flight');
      exit(1);
      return;
    }
    stopping = true;
    firstSignalAt = Date.now();
    logger.info({ signal, requestsInFlight: inFlight.size, timeoutSeconds: timeoutMs / 1000 }, 'shutting down: no new connections; finishing the requests in flight');
    const giveUp = setTimeout(() => {
      logger.error({ requestsInFlight: inFlight.size }, `still busy ${timeoutMs / 1000} s after ${signal}: exiting without waiting any longer (SHUTDOWN_TIMEOUT_SECONDS)`);
      exit(1);
    }, timeoutMs);
    stopTimers();
    for (const response of inFlight) closeConnectionAfter(response);
    // Node's close() also ends the connections that are idle now; the others end after their answer.
    server.close(() => {
      release().then(
        () => {
          clearTimeout(giveUp);
          logger.info({ signal }, 'stopped');
          exit(0);
        },
        (error: unknown) => {
          clearTimeout(giveUp);
          logger.error({ err: error }, 'shutting down failed');
          exit(1);
        },
      );
    });
  };
}

/** Answers not started yet say so to the client (`Connection: close`), and Node closes the connection after them. */
function closeConnectionAfter(response: ServerResponse): void {
  if (!response.headersSent) response.setHeader('Connection', 'close');
}
