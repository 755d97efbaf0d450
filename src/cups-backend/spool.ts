import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ownerIsAlive, type ProcessOwner } from './process-identity.js';
import { isPortalUsername } from './usernames.js';

/** A job's reference and Idempotency-Key, by the API's rule for references. */
export const REFERENCE_PATTERN = /^[\x21-\x7e]{1,100}$/;

/**
 * What a spool file must hold to be sent: anything else (a file damaged, or written by hand) is set
 * aside in failed/ rather than crash every later job on it.
 */
const pendingDebitSchema = z.object({
  username: z.string().refine(isPortalUsername),
  idempotencyKey: z.string().regex(REFERENCE_PATTERN),
  /** Sent exactly as saved every time: the Idempotency-Key is bound to the request's body. */
  body: z
    .object({
      category: z.enum(['print', 'copy']),
      units: z.number().positive(),
      pages: z.number().int().nonnegative(),
      reference: z.string().regex(REFERENCE_PATTERN),
      printer: z.string().min(1),
      colour: z.boolean(),
      duplex: z.boolean(),
      afterPrinting: z.boolean(),
    })
    .strict(),
  /**
   * The backend process printing the job: while it lives, the job may still fail and need no debit.
   * With the boot and the process's start time, as a pid alone may name another process since.
   */
  pid: z.number().int().positive(),
  bootId: z.string().nullable().default(null),
  startTime: z.string().nullable().default(null),
  savedAt: z.string(),
});

/** A job's debit, kept until Recharge has it. */
export type PendingDebit = z.infer<typeof pendingDebitSchema>;

export interface SpoolEntry {
  name: string;
  debit: PendingDebit;
}

/** A file set aside in failed/, and why. */
export interface SetAside {
  name: string;
  reason: string;
}

/** Markers of jobs printed are kept longer than CUPS keeps a job's files (a day by default) to reprint it. */
const DONE_MARKERS_KEPT_MS = 7 * 24 * 3600 * 1000;

/** Files being written have another suffix: never listed, so a half-written debit is never read. */
const TEMPORARY_SUFFIX = '.writing';
const ENTRY_SUFFIX = '.json';

/**
 * One JSON file per job in folders under the spool directory:
 * - `printing/`: written before the printer's backend runs, so that a backend killed while the job
 *   prints (the paper may be out) still leaves its debit; forgotten if the printer's backend fails;
 * - `pending/`: printed, to send; a `printing/` file whose process died is moved here;
 * - `failed/`: refused by Recharge for good, for a person to look at, never sent again by itself;
 * - `work/`: the jobs' data while they print (what a killed backend left is removed with its orphans);
 * - `done/`: an empty file per job reference whose run ended as CUPS marks a job completed (see
 *   markDone), so that the job run again later (restarted by its owner: CUPS keeps its files) is known
 *   for a reprint, debited again under another reference.
 * Names sort by the time the job was saved, then its id: replaying in name order sends debits in the
 * order the jobs printed.
 */
export function createSpool(directory: string, isAlive: (owner: ProcessOwner) => boolean = ownerIsAlive) {
  const printing = path.join(directory, 'printing');
  const pending = path.join(directory, 'pending');
  const failed = path.join(directory, 'failed');
  const work = path.join(directory, 'work');
  const done = path.join(directory, 'done');
  const markerOf = (reference: string) => path.join(done, encodeURIComponent(reference));

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
  async function read(folder: string): Promise<{ entries: SpoolEntry[]; setAside: SetAside[] }> {
    const entries: SpoolEntry[] = [];
    const setAside: SetAside[] = [];
    for (const name of await entriesIn(folder)) {
      let text: string;
      try {
        text = await readFile(path.join(folder, name), 'utf8');
      } catch (error) {
        // Moved or removed by another run (a replay beside a job) meanwhile.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      // Files appear only complete: one that is not a debit was damaged on disk, or written by hand.
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      const parsed = pendingDebitSchema.safeParse(json);
      if (parsed.success) {
        entries.push({ name, debit: parsed.data });
      } else {
        await move(name, folder, failed);
        setAside.push({ name, reason: 'not a debit this backend wrote' });
      }
    }
    return { entries, setAside };
  }

  return {
    /** Where a job's data is saved while it prints, named after the process so that what a killed one left can be removed. */
    workFile: (jobId: number) => path.join(work, `${process.pid}-${jobId}-${randomBytes(6).toString('hex')}`),

    async prepare() {
      for (const folder of [printing, pending, failed, work, done]) await mkdir(folder, { recursive: true, mode: 0o700 });
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
    async adoptOrphans(): Promise<{ adopted: string[]; setAside: SetAside[] }> {
      const { entries, setAside } = await read(printing);
      const orphans = entries.filter(({ debit }) => !isAlive(debit));
      for (const { name } of orphans) await move(name, printing, pending);
      for (const name of await readdir(work).catch(() => [])) {
        const pid = Number(/^(\d+)-/.exec(name)?.[1]);
        if (pid && !isAlive({ pid, bootId: null, startTime: null })) await rm(path.join(work, name), { force: true });
      }
      return { adopted: orphans.map(({ name }) => name), setAside };
    },

    /** The debits to send, oldest first, and those set aside as not debits. */
    list: () => read(pending),

    /**
     * The reference a job is debited under: its own, or for a job that printed already under it (a
     * reprint) the first of `reference~2`, `~3`… not used yet. Null when none fits the API's rule.
     */
    async referenceFor(reference: string, now: Date): Promise<string | null> {
      for (let run = 1; ; run += 1) {
        const candidate = run === 1 ? reference : `${reference}~${run}`;
        if (!REFERENCE_PATTERN.test(candidate)) return null;
        const markedAt = await stat(markerOf(candidate)).then(({ mtimeMs }) => mtimeMs, (error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT') return null;
          throw error;
        });
        // An old marker is another job's that had this id (CUPS no longer keeps this one's files), not yet pruned.
        if (markedAt === null || now.getTime() - markedAt > DONE_MARKERS_KEPT_MS) return candidate;
      }
    },

    /**
     * The job's run under `reference` ended as CUPS marks a job completed: any later run of it is a
     * reprint. Written by that run alone, as its last step: CUPS's own runs again of a job (after a
     * SIGTERM, a crash, an error) keep its reference, debited once. Old markers go meanwhile.
     */
    async markDone(reference: string, now: Date) {
      await (await open(markerOf(reference), 'w', 0o600)).close();
      await syncFolder(done);
      for (const name of await readdir(done)) {
        const marker = path.join(done, name);
        const { mtimeMs } = await stat(marker).catch(() => ({ mtimeMs: Infinity }));
        if (now.getTime() - mtimeMs > DONE_MARKERS_KEPT_MS) await rm(marker, { force: true });
      }
    },

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
