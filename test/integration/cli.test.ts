import { expect } from 'chai';
import { runCliInProcess } from '../helpers/cli.js';
import { createArgon2Hasher } from '../../src/domain/people/passwords.js';
import { findUserByUsername } from '../../src/db/people/user-repository.js';
import { createTestDatabase, expectLedgerConsistent, testDialect, type TestDatabase } from '../helpers/database.js';
import { runEntry } from '../helpers/processes.js';

describe(`command line (${testDialect})`, () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  afterEach(() => expectLedgerConsistent(database.db));
  after(() => database.cleanup());

  const cli = (args: string[], stdin = '') => runCliInProcess(args, { DATABASE_URL: database.url }, stdin);
  const stored = (username: string) => findUserByUsername(database.db.knex, username);

  it('adds a person with a password read from standard input', async () => {
    const result = await cli(['user', 'add', '--username', 'Jean.Dupont', '--name', 'Jean Dupont', '--email', 'jean@example.edu', '--role', 'admin', '--password-stdin'], 'a long enough password\n');
    expect(result).to.include({ code: 0, err: '' });
    expect(result.out).to.match(/^Added admin jean\.dupont \(id \d+\)\.\n$/);
    const user = await stored('jean.dupont');
    expect(user).to.include({ displayName: 'Jean Dupont', email: 'jean@example.edu', role: 'admin', disabled: false });
    const parameters = /^\$argon2id\$v=19\$([^$]+)\$/.exec(user?.passwordHash ?? '')?.[1]?.split(',').sort();
    expect(parameters).to.deep.equal(['m=19456', 'p=1', 't=2']); // OWASP: argon2id, 19 MiB, 2 passes, 1 lane
    expect(await createArgon2Hasher().verify(user?.passwordHash as string, 'a long enough password')).to.equal(true);
  });

  it('refuses a taken username, a bad e-mail, a bad role and a short password with exit code 1', async () => {
    await cli(['user', 'add', '--username', 'taken', '--name', 'T', '--email', 't@example.edu', '--role', 'user']);
    const cases: Array<[string[], string, RegExp]> = [
      [['--username', 'taken', '--name', 'T', '--email', 't@example.edu', '--role', 'user'], '', /username taken is already taken/],
      [['--username', 'mail', '--name', 'M', '--email', 'not-an-email', '--role', 'user'], '', /email: is not a valid e-mail/],
      [['--username', 'role', '--name', 'R', '--email', 'r@example.edu', '--role', 'root'], '', /role: must be one of user, admin, it/],
      [['--username', 'short', '--name', 'S', '--email', 's@example.edu', '--role', 'user', '--password-stdin'], 'short\n', /password must be 8 to 1024/],
    ];
    for (const [args, stdin, message] of cases) {
      const result = await cli(['user', 'add', ...args], stdin);
      expect(result.code, args.join(' ')).to.equal(1);
      expect(result.err).to.match(/^Error: /).and.match(message);
    }
    expect(await stored('short')).to.equal(undefined);
  });

  it('answers wrong usage with exit code 2 and the usage text', async () => {
    for (const args of [[], ['user', 'add', '--username', 'x'], ['user', 'frobnicate', '--username', 'x'], ['user', 'add', '--bogus'], ['user', 'passwd', '--username', 'taken']]) {
      const result = await cli(args);
      expect(result.code, args.join(' ')).to.equal(2);
      expect(result.err).to.include('Usage: npm run cli -- <command>');
    }
    expect((await cli(['--help'])).code).to.equal(0);
  });

  it('changes a password and a role, disables and enables', async () => {
    await cli(['user', 'add', '--username', 'pat', '--name', 'Pat', '--email', 'pat@example.edu', '--role', 'user', '--password-stdin'], 'first password');
    expect((await cli(['user', 'passwd', '--username', 'PAT', '--password-stdin'], 'second password\r\n')).code).to.equal(0);
    expect(await createArgon2Hasher().verify((await stored('pat'))?.passwordHash as string, 'second password')).to.equal(true);
    expect(await cli(['user', 'role', '--username', 'pat', '--role', 'it'])).to.include({ code: 0, out: 'pat is now it.\n' });
    expect((await stored('pat'))?.role).to.equal('it');
    expect((await cli(['user', 'disable', '--username', 'pat'])).out).to.equal('pat is disabled.\n');
    expect((await stored('pat'))?.disabled).to.equal(true);
    await cli(['user', 'enable', '--username', 'pat']);
    expect((await stored('pat'))?.disabled).to.equal(false);
    const missing = await cli(['user', 'disable', '--username', 'nobody']);
    expect(missing).to.include({ code: 1, err: 'Error: no user named nobody\n' });
  });

  it('checks the ledger: exit 0 when it balances, 1 with the mismatch when it does not', async () => {
    const clean = await cli(['ledger', 'check']);
    expect(clean.code).to.equal(0);
    expect(clean.out).to.include('Ledger OK.');
    await database.db.knex('accounts').where('code', 'system:top-ups').update({ balance: 42 });
    try {
      const broken = await cli(['ledger', 'check']);
      expect(broken.code).to.equal(1);
      expect(broken.out).to.include('MISMATCH account system:top-ups: stored balance 42, entries say 0').and.include('Ledger check FAILED.');
    } finally {
      await database.db.knex('accounts').where('code', 'system:top-ups').update({ balance: 0 });
    }
  });

  it("names the account whose activity (the history's counts and usage) disagrees with its entries", async () => {
    const account = await database.db.knex('accounts').where('code', 'system:top-ups').first('id');
    const tampered = { account_id: account.id, class: 'all', span: 0, bucket: 0, entries: 3, used_units: 0 };
    await database.db.knex('account_activity').insert(tampered);
    try {
      const broken = await cli(['ledger', 'check']);
      expect(broken.code).to.equal(1);
      expect(broken.out).to.include(`MISMATCH activity of account ${account.id} (all, span 0, bucket 0): stored`).and.include('Ledger check FAILED.');
    } finally {
      await database.db.knex('account_activity').where({ account_id: account.id }).delete();
    }
  });

  it('works from a shell script: real process, stdin, exit codes', async () => {
    const env = { NODE_ENV: 'test', DATABASE_URL: database.url };
    const args = ['user', 'add', '--username', 'scripted', '--name', 'Scripted', '--email', 's@example.edu', '--role', 'user', '--password-stdin'];
    const added = await runEntry('src/cli.ts', args, { env, input: 'from a script 123\n' });
    expect(added.code, added.stderr).to.equal(0);
    expect(added.stdout).to.match(/Added user scripted/);
    const again = await runEntry('src/cli.ts', args, { env, input: 'from a script 123\n' });
    expect(again.code).to.equal(1);
    expect(again.stderr).to.equal('Error: username scripted is already taken\n');
    expect((await runEntry('src/cli.ts', ['user'], { env })).code).to.equal(2);
  });
});
