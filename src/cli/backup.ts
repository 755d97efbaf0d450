import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { BackupError, targetExists } from '../db/backup/backup-error.js';
import { checkPgDump, pgDumpCommand } from '../db/backup/postgres-dump.js';
import { backUpSqlite } from '../db/backup/sqlite-backup.js';
import { createDatabase } from '../db/database.js';

interface Output {
  write(text: string): unknown;
}

/**
 * `backup <file>`: SQLite is copied online into `file`; PostgreSQL is dumped by its own pg_dump, whose
 * line this prints after checking that it can dump the server. A relative `file` is read from where
 * npm was run (INIT_CWD), not from the project folder npm moves to. Returns the exit code.
 */
export async function backUp(file: string, config: Config, io: { stdout: Output; env: NodeJS.ProcessEnv }): Promise<number> {
  const target = path.resolve(io.env.INIT_CWD ?? process.cwd(), file);
  if (existsSync(target)) throw targetExists(target);
  const uploads = `Uploaded logos and favicons are files, not in the database: back up ${config.branding.uploadsDir} as well.\n`;
  const source = config.database.target;
  if (source.dialect === 'sqlite' && !existsSync(source.filename)) throw new BackupError('no_database', `there is no database at ${source.filename} (DATABASE_URL) to back up`);
  const db = createDatabase(source, { poolMax: 1 });
  try {
    if (source.dialect === 'sqlite') {
      const backup = await backUpSqlite(db.knex, target);
      io.stdout.write(`Backed up ${source.filename} to ${backup.file} (${backup.bytes} bytes): the database as of one moment, integrity checked.\n${uploads}`);
      return 0;
    }
    const command = pgDumpCommand(source.connectionString, target);
    io.stdout.write(`PostgreSQL is backed up by its own pg_dump (custom format, for pg_restore). Run:\n\n  ${command.line}\n\n`);
    if (command.passwordLeftOut) io.stdout.write('The password in DATABASE_URL is left out: give it to pg_dump in PGPASSWORD or a ~/.pgpass line (host:port:database:user:password, mode 0600).\n');
    if (command.sslPasswordLeftOut) io.stdout.write("The passphrase of the TLS key (sslpassword) in DATABASE_URL is left out: pg_dump asks for it, or give it in a service file (~/.pg_service.conf, mode 0600) named by PGSERVICE.\n");
    io.stdout.write(uploads);
    const check = await checkPgDump(db.knex, io.env);
    io.stdout.write(`pg_dump ${check.pgDumpVersion} can dump this server (PostgreSQL ${check.serverVersion}).\n`);
    return 0;
  } finally {
    await db.close();
  }
}
