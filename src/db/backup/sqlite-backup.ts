import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, link, open, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Knex } from 'knex';
import sqlite3 from 'sqlite3';
import { BackupError, targetExists } from './backup-error.js';

export interface SqliteBackup {
  file: string;
  bytes: number;
}

/** What link() answers on file systems without hard links: vfat and exFAT (EPERM), some network and FUSE ones. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

/**
 * Copies the SQLite database `knex` is connected to into `target`, a new file. `VACUUM INTO` reads
 * the whole database in one read transaction, so the copy is the database as of one moment even
 * while the portal keeps writing (WAL: readers and the writer do not wait for each other); it is a
 * single self-contained file (no -wal beside it). The copy holds names, e-mail addresses, password
 * hashes and sessions, so it is readable by its owner only (0600) from the moment it exists, whatever
 * the umask. It is written under a temporary name, checked (`PRAGMA integrity_check`), flushed to
 * disk, then linked to `target`, which never replaces a file that appeared meanwhile. `linkFile` is
 * node's `link`, a parameter only so that tests can stand for a file system without hard links.
 */
export async function backUpSqlite(knex: Knex, target: string, { linkFile = link }: { linkFile?: typeof link } = {}): Promise<SqliteBackup> {
  const folder = path.dirname(target);
  if (!(await isFolder(folder))) throw new BackupError('no_folder', `there is no folder ${folder} to write the backup in`);
  if (await exists(target)) throw targetExists(target);
  const partial = path.join(folder, `.${path.basename(target)}.${randomBytes(6).toString('hex')}.partial`);
  try {
    await createOwnerOnly(partial);
    // VACUUM INTO writes into an empty file that exists, and leaves its mode as it is.
    await knex.raw('VACUUM INTO ?', [partial]);
    const problems = await integrityProblems(partial);
    if (problems.length > 0) throw new BackupError('copy_damaged', `the copy failed SQLite's integrity check, so it was not kept: ${problems.slice(0, 5).join('; ')}`);
    await flush(partial);
    await putInPlace(partial, target, linkFile);
    await flush(folder);
    return { file: target, bytes: (await stat(target)).size };
  } finally {
    await rm(partial, { force: true });
  }
}

/** An empty file of mode 0600 (chmod too: the umask could have taken bits away, never added any). */
async function createOwnerOnly(file: string): Promise<void> {
  const handle = await open(file, 'wx', 0o600);
  try {
    await handle.chmod(0o600);
  } finally {
    await handle.close();
  }
}

/**
 * Gives `partial` the name `target` without ever replacing a file there: a hard link, or where the file
 * system has none a copy that refuses an existing file (COPYFILE_EXCL; the mode is kept, and libuv
 * removes what it wrote if the copy fails), flushed as well. The copy's name shows while its bytes are
 * written, which a link avoids.
 */
async function putInPlace(partial: string, target: string, linkFile: typeof link): Promise<void> {
  try {
    await linkFile(partial, target);
    return;
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    if (code === 'EEXIST') throw targetExists(target);
    if (code === undefined || !NO_HARD_LINKS.has(code)) throw error;
  }
  try {
    await copyFile(partial, target, constants.COPYFILE_EXCL);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw targetExists(target);
    throw error;
  }
  await flush(target);
}

/** What `PRAGMA integrity_check` finds wrong in the file, opened read-only on a connection of its own. */
async function integrityProblems(file: string): Promise<string[]> {
  const copy = await new Promise<sqlite3.Database>((resolve, reject) => {
    const opened = new sqlite3.Database(file, sqlite3.OPEN_READONLY, (error) => (error ? reject(error) : resolve(opened)));
  });
  try {
    const rows = await new Promise<Array<{ integrity_check: string }>>((resolve, reject) => copy.all('PRAGMA integrity_check', (error, found: Array<{ integrity_check: string }>) => (error ? reject(error) : resolve(found))));
    return rows.map((row) => row.integrity_check).filter((line) => line !== 'ok');
  } finally {
    await new Promise<void>((resolve) => copy.close(() => resolve()));
  }
}

/** fsync: the file's bytes, or a folder's new entry, survive a power cut from here on. */
async function flush(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );
}

async function isFolder(folder: string): Promise<boolean> {
  return stat(folder).then(
    (info) => info.isDirectory(),
    () => false,
  );
}
