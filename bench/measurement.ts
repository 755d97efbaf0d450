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

/** The process that answers, whose CPU time is read before and after. */
export interface MeasuredServer {
  cpuMs(): number | null;
}

/** CPU time of `server` spent per completed answer while `work` ran. */
export async function withCpuTime<T extends { completed: number }>(server: MeasuredServer, work: () => Promise<T>): Promise<T & { cpuMsPerAnswer: number | null }> {
  const before = server.cpuMs();
  const result = await work();
  const after = server.cpuMs();
  return { ...result, cpuMsPerAnswer: before === null || after === null || result.completed === 0 ? null : (after - before) / result.completed };
}

export type RequestTarget = Pick<autocannon.Options, 'method' | 'headers' | 'body' | 'requests'> & { url: string };

/** Runs autocannon at the settings; answers that are not 2xx count as failures, never as speed. */
export async function measureRequests(name: string, server: MeasuredServer, target: RequestTarget, settings: LoadSettings): Promise<Measurement> {
  const options = { ...target, connections: settings.connections, pipelining: 1 };
  if (settings.warmUpSeconds > 0) await autocannon({ ...options, duration: settings.warmUpSeconds });
  const { result, cpuMsPerAnswer } = await withCpuTime(server, async () => {
    const result = await autocannon({ ...options, duration: settings.seconds });
    return { result, completed: result.requests.total };
  });
  const failures = result.non2xx + result.errors;
  const statuses = Object.entries(result.statusCodeStats ?? {})
    .filter(([status]) => !status.startsWith('2'))
    .map(([status, { count = 0 }]) => `${count}× ${status}`);
  if (result.errors > 0) statuses.push(`${result.errors} connection errors (${result.timeouts} timeouts)`);
  return {
    name,
    rate: result.requests.total / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    bytes: result['2xx'] > 0 ? result.throughput.total / result['2xx'] : 0,
    completed: result.requests.total,
    cpuMsPerAnswer,
    failures,
    failureNote: statuses.join(', '),
  };
}

/** The nearest-rank percentile of durations sorted in ascending order. */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))]!;
}
