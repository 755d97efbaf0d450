import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { DebitRequest } from './portal-client.js';

/** A job's debit, kept until Recharge has it. */
export interface PendingDebit {
  username: string;
  idempotencyKey: string;
  /** Sent exactly as saved every time: the Idempotency-Key is bound to the request's body. */
  body: DebitRequest;
  /** The backend process printing the job: while it lives, the job may still fail and need no debit. */
  pid: number;
  savedAt: string;
}

export interface SpoolEntry {
  name: string;
  debit: PendingDebit;
}

/** Files being written have another suffix: never listed, so a half-written debit is never read. */
const TEMPORARY_SUFFIX = '.writing';
const ENTRY_SUFFIX = '.json';

/** Whether a process runs (EPERM: it does, as another user). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One JSON file per job in folders under the spool directory:
 * - `printing/`: written before the printer's backend runs, so that a backend killed while the job
 *   prints (the paper may be out) still leaves its debit; forgotten if the printer's backend fails;
 * - `pending/`: printed, to send; a `printing/` file whose process died is moved here;
 * - `failed/`: refused by Recharge for good, for a person to look at, never sent again by itself;
 * - `work/`: the jobs' data while they print (what a killed backend left is removed with its orphans).
 * Names sort by the time the job was saved, then its id: replaying in name order sends debits in the
 * order the jobs printed.
 */
export function createSpool(directory: string, isAlive: (pid: number) => boolean = isRunning) {
  const printing = path.join(directory, 'printing');
  const pending = path.join(directory, 'pending');
  const failed = path.join(directory, 'failed');
  const work = path.join(directory, 'work');

  /** Flushes a folder's entries (a new or renamed file) to disk. */
  async function syncFolder(folder: string) {
    const handle = await open(folder, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async function entriesIn(folder: string): Promise<string[]> {
    try {
      return (await readdir(folder)).filter((name) => name.endsWith(ENTRY_SUFFIX)).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  /** Moves a file between folders, durably; one another run moved already is fine. */
  async function move(name: string, from: string, to: string) {
    try {
      await rename(path.join(from, name), path.join(to, name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    await syncFolder(to);
    await syncFolder(from);
  }

  /** The debits in `folder`, oldest first; a damaged file is set aside rather than block those after it. */
  async function read(folder: string): Promise<SpoolEntry[]> {
    const entries: SpoolEntry[] = [];
    for (const name of await entriesIn(folder)) {
      let text: string;
      try {
        text = await readFile(path.join(folder, name), 'utf8');
      } catch (error) {
        // Moved or removed by another run (a replay beside a job) meanwhile.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      try {
        entries.push({ name, debit: JSON.parse(text) as PendingDebit });
      } catch {
        // Files appear only complete: this one was damaged on disk.
        await move(name, folder, failed);
      }
    }
    return entries;
  }

  return {
    /** Where a job's data is saved while it prints, named after the process so that what a killed one left can be removed. */
    workFile: (jobId: number) => path.join(work, `${process.pid}-${jobId}-${randomBytes(6).toString('hex')}`),

    async prepare() {
      for (const folder of [printing, pending, failed, work]) await mkdir(folder, { recursive: true, mode: 0o700 });
    },

    /**
     * Writes the debit durably before the job prints: the file and its folder are synced, and it
     * appears under its name only once complete (written beside, then renamed).
     */
    async savePrinting(debit: PendingDebit, jobId: number, now: Date): Promise<string> {
      const name = `${String(now.getTime()).padStart(15, '0')}-${String(jobId).padStart(10, '0')}-${encodeURIComponent(debit.body.printer)}${ENTRY_SUFFIX}`;
      const temporary = path.join(printing, `${name}.${randomBytes(8).toString('hex')}${TEMPORARY_SUFFIX}`);
      const handle = await open(temporary, 'wx', 0o600);
      try {
        await handle.writeFile(`${JSON.stringify(debit, null, 2)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, path.join(printing, name));
      await syncFolder(printing);
      return name;
    },

    /** The job printed: its debit is to send. */
    markPrinted: (name: string) => move(name, printing, pending),

    /** The printer's backend failed: nothing to debit. */
    async forgetPrinting(name: string) {
      await rm(path.join(printing, name), { force: true });
      await syncFolder(printing);
    },

    /** Debits whose backend died while its job printed: the job may be on paper, so they are sent. */
    async adoptOrphans(): Promise<string[]> {
      const orphans = (await read(printing)).filter(({ debit }) => !isAlive(debit.pid));
      for (const { name } of orphans) await move(name, printing, pending);
      for (const name of await readdir(work).catch(() => [])) {
        const pid = Number(/^(\d+)-/.exec(name)?.[1]);
        if (pid && !isAlive(pid)) await rm(path.join(work, name), { force: true });
      }
      return orphans.map(({ name }) => name);
    },

    /** The debits to send, oldest first. */
    list: () => read(pending),

    failedNames: () => entriesIn(failed),

    /** Recharge has it. Removing what another run removed already is fine. */
    async remove(name: string) {
      await rm(path.join(pending, name), { force: true });
      await syncFolder(pending);
    },

    /** Recharge refused it for good: kept aside for a person, never sent again by itself. */
    moveToFailed: (name: string) => move(name, pending, failed),
  };
}

export type Spool = ReturnType<typeof createSpool>;
