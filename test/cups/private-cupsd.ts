import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';

const run = promisify(execFile);
/** Where Debian's cups package puts its programs: the private server's ServerBin links to them. */
const SYSTEM_SERVERBIN = '/usr/lib/cups';

export interface JobStatus {
  id: number;
  /** From `lpstat -W completed`: printed, cancelled or aborted; otherwise still queued, held or printing. */
  completed: boolean;
  /** job-printer-state-message: what the backend said last. */
  status: string;
  /** job-state-reasons. */
  alerts: string;
}

/**
 * A CUPS scheduler of the test's own: Debian's cupsd in the foreground with every folder (configuration,
 * spool, logs, ServerBin) in a temporary folder, listening on a Unix socket only. Its ServerBin links
 * to the system's filters and backends, so the backend installed in it is found as on a real server.
 */
export class PrivateCupsd {
  private constructor(
    readonly root: string,
    readonly serverBin: string,
    readonly socket: string,
    private readonly daemon: ChildProcess,
  ) {}

  static async start(): Promise<PrivateCupsd> {
    const root = await mkdtemp(path.join(tmpdir(), 'recharge-cupsd-'));
    // Backends installed 0755 run as lp, which must reach them and the job files.
    await chmod(root, 0o755);
    const serverBin = path.join(root, 'serverbin');
    for (const folder of ['conf', 'log', 'spool/tmp', 'cache', 'state', 'serverbin/backend']) await mkdir(path.join(root, folder), { recursive: true });
    for (const entry of await readdir(SYSTEM_SERVERBIN)) {
      if (entry !== 'backend') await symlink(path.join(SYSTEM_SERVERBIN, entry), path.join(serverBin, entry));
    }
    for (const backend of await readdir(path.join(SYSTEM_SERVERBIN, 'backend'))) {
      await symlink(path.join(SYSTEM_SERVERBIN, 'backend', backend), path.join(serverBin, 'backend', backend));
    }
    const socket = path.join(root, 'cups.sock');
    const at = (folder: string) => path.join(root, folder);
    await writeFile(
      at('conf/cups-files.conf'),
      [`ServerRoot ${at('conf')}`, `ServerBin ${serverBin}`, `RequestRoot ${at('spool')}`, `TempDir ${at('spool/tmp')}`, `CacheDir ${at('cache')}`, `StateDir ${at('state')}`, `ErrorLog ${at('log/error_log')}`, `AccessLog ${at('log/access_log')}`, `PageLog ${at('log/page_log')}`, 'User lp', 'Group lp', ''].join('\n'),
    );
    await writeFile(
      at('conf/cupsd.conf'),
      // Jobs are kept once done, so that the test can read how each one ended.
      [`Listen ${socket}`, 'LogLevel debug', 'WebInterface No', 'Browsing No', 'PreserveJobHistory Yes', 'DefaultAuthType None', '<Location />', '  Order allow,deny', '  Allow all', '</Location>', ''].join('\n'),
    );
    const daemon = spawn('cupsd', ['-f', '-c', at('conf/cupsd.conf'), '-s', at('conf/cups-files.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let errors = '';
    daemon.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    const cupsd = new PrivateCupsd(root, serverBin, socket, daemon);
    for (let tries = 0; !existsSync(socket); tries += 1) {
      if (daemon.exitCode !== null || tries > 100) {
        await cupsd.stop();
        throw new Error(`cupsd did not start: ${errors}`);
      }
      await sleep(50);
    }
    return cupsd;
  }

  /** The environment CUPS's client programs need to reach this scheduler. */
  get env(): NodeJS.ProcessEnv {
    return { ...process.env, CUPS_SERVER: this.socket };
  }

  async command(program: string, args: string[]): Promise<string> {
    const { stdout } = await run(program, args, { env: this.env });
    return stdout;
  }

  /** Prints `file` with `lp` as `user`; returns the job's id. */
  async print(queue: string, file: string, { user, options = [] }: { user: string; options?: string[] }): Promise<number> {
    const output = await this.command('lp', ['-d', queue, '-U', user, ...options.flatMap((option) => ['-o', option]), file]);
    const id = /request id is \S+-(\d+)/.exec(output)?.[1];
    if (!id) throw new Error(`lp printed no job id: ${output}`);
    return Number(id);
  }

  async job(id: number): Promise<JobStatus> {
    const completed = await this.command('lpstat', ['-W', 'completed', '-o']);
    const listing = await this.command('lpstat', ['-W', 'all', '-l', '-o']);
    const block = listing.split(/\n(?=\S)/).find((entry) => new RegExp(`^\\S+-${id}\\s`).test(entry)) ?? '';
    return {
      id,
      completed: new RegExp(`^\\S+-${id}\\s`, 'm').test(completed),
      status: /^\s+Status: ?(.*)$/m.exec(block)?.[1] ?? '',
      alerts: /^\s+Alerts: ?(.*)$/m.exec(block)?.[1] ?? '',
    };
  }

  /** Waits until `done` says so of the job's status, or fails with the last status seen. */
  async waitForJob(id: number, done: (job: JobStatus) => boolean, timeoutMs = 20_000): Promise<JobStatus> {
    const deadline = Date.now() + timeoutMs;
    let job = await this.job(id);
    while (!done(job)) {
      if (Date.now() > deadline) throw new Error(`job ${id} stayed ${JSON.stringify(job)}\n${await this.log(id)}`);
      await sleep(100);
      job = await this.job(id);
    }
    return job;
  }

  /**
   * Waits until the scheduler has held the job after its backend's last run ("Job held indefinitely",
   * "Job held for 300 seconds"). Its log is the one place that says so: the job's status message comes
   * before the backend exits, and a job released before that is held all the same.
   */
  async waitForHold(id: number, timeoutMs = 20_000): Promise<JobStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = (await this.log(id, Infinity)).split('\n');
      const lastRun = lines.findLastIndex((line) => line.includes('Started backend'));
      if (lastRun >= 0 && lines.findLastIndex((line) => line.includes('Job held')) > lastRun) return this.job(id);
      if (Date.now() > deadline) throw new Error(`job ${id} was not held\n${lines.slice(-40).join('\n')}`);
      await sleep(100);
    }
  }

  /** The scheduler's log lines about one job (the last `lines` of them), for a failing test's message. */
  async log(id: number, lines = 40): Promise<string> {
    const text = await readFile(path.join(this.root, 'log/error_log'), 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter((line) => line.includes(`[Job ${id}]`) && !line.includes('envp['))
      .slice(-lines)
      .join('\n');
  }

  /** Stops the scheduler (and with it any backend still running) and removes its folder. */
  async stop(): Promise<void> {
    if (this.daemon.exitCode === null && this.daemon.signalCode === null) {
      const exited = new Promise((resolve) => this.daemon.once('exit', resolve));
      this.daemon.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (this.daemon.exitCode === null && this.daemon.signalCode === null) this.daemon.kill('SIGKILL');
    }
    await rm(this.root, { recursive: true, force: true });
  }
}
