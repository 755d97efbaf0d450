import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Knex } from 'knex';
import { BackupError } from './backup-error.js';

export interface PgDumpCommand {
  /** One shell line: pg_dump in its custom format (what pg_restore reads) into `target`. */
  line: string;
  /** DATABASE_URL carried a password, left out of `line`. */
  passwordLeftOut: boolean;
  /** DATABASE_URL carried the passphrase of the client's TLS key (`sslpassword`), left out of `line`. */
  sslPasswordLeftOut: boolean;
}

/**
 * The pg_dump line that backs up the database at `connectionString` into `target`, without its
 * secrets: the line is shown on screen and kept in shell histories.
 */
export function pgDumpCommand(connectionString: string, target: string): PgDumpCommand {
  const url = new URL(connectionString);
  const passwordLeftOut = url.password !== '' || url.searchParams.has('password');
  const sslPasswordLeftOut = url.searchParams.has('sslpassword');
  url.password = '';
  url.searchParams.delete('password');
  url.searchParams.delete('sslpassword');
  return { line: ['pg_dump', '--format=custom', `--file=${target}`, `--dbname=${url.toString()}`].map(shellWord).join(' '), passwordLeftOut, sslPasswordLeftOut };
}

/** The word as a POSIX shell reads it back: as it is when it is plain, else in single quotes. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

export interface PgDumpCheck {
  pgDumpVersion: string;
  serverVersion: string;
}

/**
 * Checks that pg_dump can back up the server `knex` is connected to: it must be on the PATH and of the
 * server's major version or newer (an older pg_dump refuses a newer server).
 */
export async function checkPgDump(knex: Knex, env: NodeJS.ProcessEnv): Promise<PgDumpCheck> {
  const [versionNumber, version] = await Promise.all([knex.raw('SHOW server_version_num'), knex.raw('SHOW server_version')]);
  const server = { versionNumber: Number(versionNumber.rows[0].server_version_num), version: String(version.rows[0].server_version).split(' ')[0] as string };
  let output: string;
  try {
    output = (await promisify(execFile)('pg_dump', ['--version'], { env })).stdout;
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'was not found on the PATH' : `did not run (${(error as Error).message.trim()})`;
    throw new BackupError('pg_dump_missing', `pg_dump ${reason}: install PostgreSQL's client programs, version ${serverMajor(server.versionNumber)} or later (Debian: apt-get install postgresql-client)`);
  }
  return judgePgDump(output, server);
}

/** What `pg_dump --version` printed, judged against the server's version (`server_version_num`, `server_version`). */
export function judgePgDump(output: string, server: { versionNumber: number; version: string }): PgDumpCheck {
  const pgDumpVersion = /^pg_dump \(PostgreSQL\) (\d+(?:\.\d+)*)/m.exec(output)?.[1];
  if (pgDumpVersion === undefined) throw new BackupError('pg_dump_missing', `pg_dump --version answered something unexpected: ${output.trim()}`);
  const needed = serverMajor(server.versionNumber);
  if (Number(pgDumpVersion.split('.')[0]) < needed) {
    throw new BackupError('pg_dump_too_old', `pg_dump ${pgDumpVersion} is older than the server (PostgreSQL ${server.version}) and cannot dump it: install PostgreSQL's client programs, version ${needed} or later`);
  }
  return { pgDumpVersion, serverVersion: server.version };
}

/** 150020 → 15 (PostgreSQL 10 and later number their major versions with one number). */
const serverMajor = (versionNumber: number) => Math.floor(versionNumber / 10_000);
