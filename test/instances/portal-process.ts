import type { ChildProcess } from 'node:child_process';
import { spawnCompiledEntry, spawnEntry, waitForOutput } from '../helpers/processes.js';

/** A log line the portal wrote (pino's JSON), with the instance it came from. */
export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface PortalProcess {
  name: string;
  /** Resolves once the instance has printed its banner: migrated, seeded, listening. */
  ready: Promise<void>;
  /** Where this instance listens (the load balancer's side of it); known once ready. */
  readonly url: string;
  /** Every JSON log line so far, in order. */
  readonly logs: readonly LogLine[];
  /** What the process printed that is not a log line (the banner, a crash). */
  readonly output: string;
  stop(): Promise<void>;
}

/**
 * `npm start` in a child process (tsx src/server.ts, or its `compiled` build as npm start runs it:
 * compile it first), the way a service manager runs each instance. It listens on an ephemeral port,
 * read from its banner. Returned at once, so that `stop` works even when the instance never gets ready.
 */
export function startPortalProcess(name: string, env: NodeJS.ProcessEnv, { compiled = false, nodeOptions = [] }: { compiled?: boolean; nodeOptions?: string[] } = {}): PortalProcess {
  const spawnPortal = compiled ? spawnCompiledEntry : spawnEntry;
  // Reached on its own address and a port chosen at start, which no PUBLIC_URL can name beforehand.
  const child = spawnPortal('src/server.ts', [], { REDIRECT_TO_PUBLIC_URL: 'false', ...env, HOST: '127.0.0.1', PORT: '0' }, nodeOptions);
  const logs: LogLine[] = [];
  let output = '';
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const log = parseLog(line);
      if (log) logs.push(log);
      else output += `${line}\n`;
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  let url: string | null = null;
  const ready = waitForOutput(child, BANNER, 45_000).then((banner) => {
    // The banner says localhost; the instance listens on 127.0.0.1 only (HOST above).
    url = `http://127.0.0.1:${BANNER.exec(banner)?.[1]}`;
  });
  return {
    name,
    ready,
    get url() {
      if (url === null) throw new Error(`instance ${name} is not ready`);
      return url;
    },
    logs,
    get output() {
      return output;
    },
    stop: () => stopProcess(child),
  };
}

const BANNER = /Recharge is running at http:\/\/localhost:(\d+)/;

function parseLog(line: string): LogLine | null {
  if (!line.startsWith('{')) return null;
  try {
    return JSON.parse(line) as LogLine;
  } catch {
    return null;
  }
}

/** SIGTERM (the portal finishes what it is doing), then SIGKILL if it has not ended within 10 s. */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(killer);
}
