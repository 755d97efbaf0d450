import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { BackupError } from '../../src/db/backup/backup-error.js';
import { judgePgDump, pgDumpCommand, shellWord } from '../../src/db/backup/postgres-dump.js';

describe('the pg_dump line the backup command prints', () => {
  it('leaves the password out, wherever the URL carries it, and keeps the rest', () => {
    expect(pgDumpCommand('postgres://recharge:s3cret@db.example.edu:5432/recharge?sslmode=require&password=again', '/var/backups/recharge.dump')).to.deep.equal({
      line: "pg_dump --format=custom --file=/var/backups/recharge.dump '--dbname=postgres://recharge@db.example.edu:5432/recharge?sslmode=require'",
      passwordLeftOut: true,
      sslPasswordLeftOut: false,
    });
    expect(pgDumpCommand('postgres://recharge@127.0.0.1/recharge', '/srv/backups/r.dump')).to.deep.equal({
      line: 'pg_dump --format=custom --file=/srv/backups/r.dump --dbname=postgres://recharge@127.0.0.1/recharge',
      passwordLeftOut: false,
      sslPasswordLeftOut: false,
    });
  });

  it("leaves out the passphrase of the client's TLS key (sslpassword), and keeps the key's path", () => {
    const url = 'postgres://recharge@db.example.edu/recharge?sslmode=verify-full&sslcert=/etc/recharge/client.crt&sslkey=/etc/recharge/client.key&sslpassword=key-passphrase';
    expect(pgDumpCommand(url, '/var/backups/recharge.dump')).to.deep.equal({
      line: "pg_dump --format=custom --file=/var/backups/recharge.dump '--dbname=postgres://recharge@db.example.edu/recharge?sslmode=verify-full&sslcert=%2Fetc%2Frecharge%2Fclient.crt&sslkey=%2Fetc%2Frecharge%2Fclient.key'",
      passwordLeftOut: false,
      sslPasswordLeftOut: true,
    });
  });

  it('quotes words so that the shell reads them back exactly', async () => {
    for (const word of ['plain/path.dump', "it's here.dump", 'two  spaces', '$HOME', '`date`', 'a;b', "'", '--dbname=postgres://u@h/db?sslmode=require&x=1', 'tab\there']) {
      const { stdout } = await promisify(execFile)('sh', ['-c', `printf %s ${shellWord(word)}`]);
      expect(stdout, word).to.equal(word);
    }
  });

  it('accepts a pg_dump of the server’s major version or newer, and names the version to install otherwise', () => {
    const server = { versionNumber: 150_020, version: '15.20' };
    expect(judgePgDump('pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)\n', server)).to.deep.equal({ pgDumpVersion: '15.20', serverVersion: '15.20' });
    expect(judgePgDump('pg_dump (PostgreSQL) 17.2\n', server)).to.deep.equal({ pgDumpVersion: '17.2', serverVersion: '15.20' });
    const refusal = (output: string) => {
      try {
        judgePgDump(output, server);
      } catch (error) {
        expect(error).to.be.instanceOf(BackupError);
        return [(error as BackupError).code, (error as BackupError).message];
      }
      throw new Error(`accepted ${output}`);
    };
    expect(refusal('pg_dump (PostgreSQL) 13.16\n')).to.deep.equal([
      'pg_dump_too_old',
      "pg_dump 13.16 is older than the server (PostgreSQL 15.20) and cannot dump it: install PostgreSQL's client programs, version 15 or later",
    ]);
    expect(refusal('command not understood\n')).to.deep.equal(['pg_dump_missing', 'pg_dump --version answered something unexpected: command not understood']);
  });
});
