import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, fstatSync, openSync, statSync } from 'node:fs';
import path from 'node:path';
import { cupsUser } from './cups-user.js';
import { leadsProcessGroup } from './process-identity.js';

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

/**
 * CUPS cancels a job (or stops) by sending its backend SIGTERM. Caught for the whole run: remembered,
 * as the job may be on paper by then, and passed on to the real backend while it runs, unless it got it
 * already: cupsd starts each job's processes in a group of their own, led by this one, and signals the
 * whole group. A second SIGTERM would make CUPS's ipp backend quit at once, without cancelling the job
 * at the printer. Run by hand (not leading its group), the real backend hears of it only from here.
 */
export interface Cancellation {
  readonly requested: boolean;
  /** The real backend, while it runs. */
  passOnTo(child: ChildProcess | null): void;
}

export function watchCancellation(): Cancellation {
  let requested = false;
  let running: ChildProcess | null = null;
  process.on('SIGTERM', () => {
    requested = true;
    if (leadsProcessGroup() !== true) running?.kill('SIGTERM');
  });
  return {
    get requested() {
      return requested;
    },
    passOnTo: (child) => {
      running = child;
      // Started after the signal, the group's signal missed it.
      if (requested) child?.kill('SIGTERM');
    },
  };
}

/** How the real backend ended: its exit status, or the signal that killed it. */
export interface RealBackendEnd {
  status: number | null;
  signal: NodeJS.Signals | null;
}

export interface RealBackendRun {
  serverBin: string;
  /** The real device URI (DEVICE_URI without `recharge:/`). */
  uri: string;
  /** job-id, user, title, copies, options: as CUPS gave them. */
  jobArguments: string[];
  /** The saved job data. */
  dataFile: string;
  /** The file CUPS gave (argv[6]), which the real backend then reads; null when it reads the data on stdin. */
  cupsFile: string | null;
  env: NodeJS.ProcessEnv;
  cancellation: Cancellation;
  warn: (text: string) => void;
}

/** No account to run the printer's backend as but root, where CUPS would not: it is not run. */
export class NoBackendAccount extends Error {}

/**
 * The account to run the real backend as, as CUPS would have (see cups-user.ts): this one (null)
 * unless it is root and the backend is not private to root.
 */
function accountFor(program: string, run: RealBackendRun): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0 || (statSync(program).mode & 0o077) === 0) return null;
  const user = cupsUser(run.env.CUPS_SERVERROOT ?? '/etc/cups');
  if ('problem' in user) throw new NoBackendAccount(`${user.problem}: ${program} is not run as root in CUPS's place`);
  if (user.warning) run.warn(user.warning);
  return { uid: user.uid, gid: user.gid };
}

/**
 * Runs `<serverBin>/backend/<scheme>` as CUPS would have: argv[0] the URI, DEVICE_URI the full URI,
 * its stderr (status lines for CUPS) and stdout inherited, as CUPS's User unless private to root.
 */
export async function runRealBackend(run: RealBackendRun): Promise<RealBackendEnd> {
  const scheme = schemeOf(run.uri);
  if (scheme === null) throw new Error(`"${run.uri}" is not a device URI`);
  const program = path.join(run.serverBin, 'backend', scheme);
  const account = accountFor(program, run);
  // Another account cannot read the spool (root's alone), but reads CUPS's file, as it would without this backend.
  const file = run.cupsFile === null ? null : account ? run.cupsFile : run.dataFile;
  const input = file === null ? openSync(run.dataFile, 'r') : 'ignore';
  const stdio: StdioOptions = [input, 'inherit', 'inherit', ...cupsChannels()];
  return new Promise((resolve, reject) => {
    const child = spawn(program, file === null ? run.jobArguments : [...run.jobArguments, file], {
      argv0: withoutCredentials(run.uri),
      env: { ...run.env, DEVICE_URI: run.uri },
      stdio,
      ...account,
    });
    run.cancellation.passOnTo(child);
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      run.cancellation.passOnTo(null);
      if (typeof input === 'number') closeSync(input);
    };
    // A backend that cannot start reports `error` and no `exit`.
    child.once('error', (error) => {
      done();
      reject(error);
    });
    child.once('exit', (status, signal) => {
      done();
      resolve({ status, signal });
    });
  });
}
