import { spawn, type StdioOptions } from 'node:child_process';
import { fstatSync, openSync, closeSync } from 'node:fs';
import path from 'node:path';

/** `ipp://printer/ipp/print` → `ipp`; null for anything that is not a URI scheme (no path tricks). */
export function schemeOf(uri: string): string | null {
  return /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1]?.toLowerCase() ?? null;
}

/** The URI without user and password, as CUPS gives backends in argv[0] (what `ps` shows). */
export const withoutCredentials = (uri: string) => uri.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');

/**
 * CUPS's back channel (fd 3, a pipe) and side channel (fd 4, a socket pair), passed on to the real
 * backend when they are open. Only when they look like CUPS's: run by hand, fds 3 and 4 are Node's
 * own (its event loop's epoll and pipes), which a backend must never write to.
 */
function cupsChannels(): Array<number | 'ignore'> {
  const statOf = (fd: number) => {
    try {
      return fstatSync(fd);
    } catch {
      return null;
    }
  };
  const [back, side] = [statOf(3), statOf(4)];
  const fromCups = back !== null && side !== null && (back.isFIFO() || back.isSocket()) && side.isSocket();
  return fromCups ? [3, 4] : ['ignore', 'ignore'];
}

export interface RealBackendRun {
  serverBin: string;
  /** The real device URI (DEVICE_URI without `recharge:/`). */
  uri: string;
  /** job-id, user, title, copies, options: as CUPS gave them. */
  jobArguments: string[];
  /** The saved job data. */
  dataFile: string;
  /** Whether CUPS gave the job as a file (argv[6]): then so does the real backend; else it reads the data on stdin. */
  asFile: boolean;
  env: NodeJS.ProcessEnv;
}

/**
 * Runs `<serverBin>/backend/<scheme>` as CUPS would have: argv[0] the URI, DEVICE_URI the full URI,
 * its stderr (status lines for CUPS) and stdout inherited. A SIGTERM (the job cancelled) is passed on.
 * Resolves to its exit status (a signal counts as FAILED, 1).
 */
export function runRealBackend(run: RealBackendRun): Promise<number> {
  const scheme = schemeOf(run.uri);
  if (scheme === null) return Promise.reject(new Error(`"${run.uri}" is not a device URI`));
  const program = path.join(run.serverBin, 'backend', scheme);
  const input = run.asFile ? 'ignore' : openSync(run.dataFile, 'r');
  const stdio: StdioOptions = [input, 'inherit', 'inherit', ...cupsChannels()];
  return new Promise((resolve, reject) => {
    const child = spawn(program, run.asFile ? [...run.jobArguments, run.dataFile] : run.jobArguments, {
      argv0: withoutCredentials(run.uri),
      env: { ...run.env, DEVICE_URI: run.uri },
      stdio,
    });
    const passOn = () => child.kill('SIGTERM');
    process.on('SIGTERM', passOn);
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      process.off('SIGTERM', passOn);
      if (typeof input === 'number') closeSync(input);
    };
    // A backend that cannot start reports `error` and no `exit`.
    child.once('error', (error) => {
      done();
      reject(error);
    });
    child.once('exit', (code) => {
      done();
      resolve(code ?? 1);
    });
  });
}
