import autocannon from 'autocannon';

/** One target's figures: what the table prints. */
export interface Measurement {
  name: string;
  /** Answers (or flows) completed per second. */
  rate: number;
  p50Ms: number;
  p99Ms: number;
  /** Bytes per answer: received bytes, headers included, for requests; body bytes of every hop for a flow. */
  bytes: number;
  completed: number;
  /** CPU time the measured server spent per answer (per flow), in ms: what a page costs, whatever else runs on the machine. */
  cpuMsPerAnswer: number | null;
  /** SQL statements the measured server sent per answer (per flow); null when it does not count them. */
  statementsPerAnswer: number | null;
  /** Non-2xx answers, connection errors and timeouts; flows that went wrong. */
  failures: number;
  /** What went wrong, for the reader: status codes and counts, or the first error. */
  failureNote: string;
}

export interface LoadSettings {
  seconds: number;
  connections: number;
  /** Run before measuring, results dropped: JIT, caches and connection pools warm up. */
  warmUpSeconds: number;
}

/** The process that answers, whose CPU time and database statements are read before and after. */
export interface MeasuredServer {
  cpuMs(): number | null;
  /** Statements sent to the database so far; null when the server does not say (the baseline, a portal without the metric). */
  statementCount(): Promise<number | null>;
}

/** CPU time and statements of `server` per completed answer while `work` ran. */
export async function withServerCosts<T extends { completed: number }>(
  server: MeasuredServer,
  work: () => Promise<T>,
): Promise<T & { cpuMsPerAnswer: number | null; statementsPerAnswer: number | null }> {
  const statementsBefore = await server.statementCount();
  const cpuBefore = server.cpuMs();
  const result = await work();
  const cpuAfter = server.cpuMs();
  const statementsAfter = await server.statementCount();
  const perAnswer = (before: number | null, after: number | null) => (before === null || after === null || result.completed === 0 ? null : (after - before) / result.completed);
  return { ...result, cpuMsPerAnswer: perAnswer(cpuBefore, cpuAfter), statementsPerAnswer: perAnswer(statementsBefore, statementsAfter) };
}

export type RequestTarget = Pick<autocannon.Options, 'method' | 'headers' | 'body' | 'requests'> & { url: string };

/** Runs autocannon at the settings; answers that are not 2xx count as failures, never as speed. */
export async function measureRequests(name: string, server: MeasuredServer, target: RequestTarget, settings: LoadSettings): Promise<Measurement> {
  const options = { ...target, connections: settings.connections, pipelining: 1 };
  if (settings.warmUpSeconds > 0) await autocannon({ ...options, duration: settings.warmUpSeconds });
  const { result, cpuMsPerAnswer, statementsPerAnswer } = await withServerCosts(server, async () => {
    const result = await autocannon({ ...options, duration: settings.seconds });
    return { result, completed: result.requests.total };
  });
  // A server that answers nothing (requests still waiting when the time is up) is broken, not slow.
  const silent = result.requests.total === 0;
  const failures = result.non2xx + result.errors + (silent ? 1 : 0);
  const statuses = Object.entries(result.statusCodeStats ?? {})
    .filter(([status]) => !status.startsWith('2'))
    .map(([status, { count = 0 }]) => `${count}× ${status}`);
  if (result.errors > 0) statuses.push(`${result.errors} connection errors (${result.timeouts} timeouts)`);
  if (silent) statuses.push(`no answer in ${settings.seconds} s`);
  return {
    name,
    rate: result.requests.total / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    bytes: result['2xx'] > 0 ? result.throughput.total / result['2xx'] : 0,
    completed: result.requests.total,
    cpuMsPerAnswer,
    statementsPerAnswer,
    failures,
    failureNote: statuses.join(', '),
  };
}

/** The nearest-rank percentile of durations sorted in ascending order. */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))]!;
}
