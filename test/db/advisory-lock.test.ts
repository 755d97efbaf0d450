import { Readable } from 'node:stream';
import { expect } from 'chai';
import { runIfLockFree, runHoldingLock } from '../../src/db/advisory-lock.js';
import { createDatabase, type Database } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { runCli } from '../../src/cli/run.js';
import { createTestDatabase, testDialect, type TestDatabase } from '../helpers/database.js';
import { gate, until } from '../helpers/waiting.js';

/** Advisory locks on this test's database (pg_locks shows the whole server's, other suites' included). */
async function advisoryLocks(db: Database, state: 'granted' | 'waiting'): Promise<number> {
  const { rows } = (await db.knex.raw(
    "SELECT count(*)::int AS count FROM pg_locks WHERE locktype = 'advisory' AND granted = ? AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    [state === 'granted'],
  )) as { rows: Array<{ count: number }> };
  return rows[0]?.count ?? 0;
}

async function reconcileCommand(database: TestDatabase): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['reconcile'], {
    stdin: Readable.from([]),
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { NODE_ENV: 'test', DATABASE_URL: database.url },
  });
  return { code, stdout, stderr };
}

describe(`advisory locks (${testDialect})`, () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(() => database.cleanup());

  it('runs the work and hands back its value, and an error thrown by the work reaches the caller', async () => {
    expect(await runIfLockFree(database.db.knex, 'reconciler', async () => 42)).to.deep.equal({ ran: true, value: 42 });
    expect(await runHoldingLock(database.db.knex, 'reconciler', async () => 'done')).to.equal('done');
    const failure = new Error('the sweep failed');
    const outcome = await runIfLockFree(database.db.knex, 'reconciler', () => Promise.reject(failure)).catch((error: unknown) => error);
    expect(outcome).to.equal(failure);
  });

  it('lets `npm run reconcile` sweep when nobody else is sweeping', async () => {
    const result = await reconcileCommand(database);
    expect(result, result.stderr).to.deep.include({ code: 0, stdout: 'Examined 0 unfinished order(s); 0 changed.\n' });
  });

  if (testDialect === 'postgres') {
    describe('on PostgreSQL, between processes', () => {
      // A second pool on the same database stands for another instance: its own connections, its own sessions.
      let other: Database;
      before(() => {
        other = createDatabase({ dialect: 'postgres', connectionString: database.url }, { poolMax: 2 });
      });
      after(() => other.close());

      it('lets one holder run at a time: the others skip at once with { ran: false }, their work never called', async () => {
        const release = gate();
        let active = 0;
        let mostActive = 0;
        let calls = 0;
        const work = async () => {
          calls += 1;
          active += 1;
          mostActive = Math.max(mostActive, active);
          await release.opened;
          active -= 1;
          return 'swept';
        };
        let settled = 0;
        const attempts = [database.db, other, database.db, other, database.db].map((db) =>
          runIfLockFree(db.knex, 'reconciler', work).finally(() => (settled += 1)),
        );
        // The holder waits on the gate: every other attempt has to come back without waiting for it.
        await until(() => settled === attempts.length - 1, 'every attempt but the holder has returned');
        expect(calls).to.equal(1);
        release.open();
        const runs = await Promise.all(attempts);
        expect(runs.filter((run) => run.ran)).to.deep.equal([{ ran: true, value: 'swept' }]);
        expect(runs.filter((run) => !run.ran)).to.deep.equal(Array(attempts.length - 1).fill({ ran: false }));
        expect(mostActive).to.equal(1);
      });

      it('releases the lock once the work is done, and once it has failed', async () => {
        await runIfLockFree(database.db.knex, 'reconciler', async () => 'first');
        expect(await runIfLockFree(other.knex, 'reconciler', async () => 'after a success')).to.deep.equal({ ran: true, value: 'after a success' });
        await runIfLockFree(database.db.knex, 'reconciler', () => Promise.reject(new Error('provider down'))).catch(() => undefined);
        expect(await runIfLockFree(other.knex, 'reconciler', async () => 'after a failure')).to.deep.equal({ ran: true, value: 'after a failure' });
        expect(await advisoryLocks(database.db, 'granted')).to.equal(0);
      });

      it('keeps different locks apart: migrating does not stop a sweep', async () => {
        const release = gate();
        const migrating = runHoldingLock(database.db.knex, 'migrations', () => release.opened);
        try {
          expect(await runIfLockFree(other.knex, 'reconciler', async () => 'swept')).to.deep.equal({ ran: true, value: 'swept' });
        } finally {
          release.open();
          await migrating;
        }
      });

      it('makes a waiting holder start only once the current one is done', async () => {
        const events: string[] = [];
        const release = gate();
        const first = runHoldingLock(database.db.knex, 'demoData', async () => {
          events.push('first starts');
          await release.opened;
          events.push('first ends');
        });
        await until(() => events.length === 1, 'the first holder has started');
        const second = runHoldingLock(other.knex, 'demoData', async () => void events.push('second starts'));
        // The second is blocked in PostgreSQL, not by anything in this process: its session shows a lock not granted.
        let waiting = 0;
        const poll = setInterval(() => void advisoryLocks(database.db, 'waiting').then((count) => (waiting = count)), 10);
        try {
          await until(() => waiting > 0, 'the second holder waits for the lock');
        } finally {
          clearInterval(poll);
        }
        expect(events).to.deep.equal(['first starts']);
        release.open();
        await Promise.all([first, second]);
        expect(events).to.deep.equal(['first starts', 'first ends', 'second starts']);
      });

      it('refuses `npm run reconcile` while another process sweeps (exit 1, saying why), and runs it afterwards', async () => {
        const release = gate();
        let holding = false;
        const sweeping = runIfLockFree(other.knex, 'reconciler', async () => {
          holding = true;
          await release.opened;
        });
        try {
          await until(() => holding, 'the other process holds the lock');
          const refused = await reconcileCommand(database);
          expect(refused.code).to.equal(1);
          expect(refused.stdout).to.equal('');
          expect(refused.stderr).to.include('another process (a running portal) is reconciling right now; nothing was done');
        } finally {
          release.open();
        }
        expect(await sweeping).to.deep.equal({ ran: true, value: undefined });
        expect((await reconcileCommand(database)).code).to.equal(0);
      });

      it('lets instances started together on an empty database all migrate: one applies every migration, the others find none', async () => {
        const empty = await createTestDatabase({ migrated: false });
        const instances = [empty.db, createDatabase({ dialect: 'postgres', connectionString: empty.url }), createDatabase({ dialect: 'postgres', connectionString: empty.url })];
        try {
          const applied = await Promise.all(instances.map((instance) => migrateToLatest(instance.knex)));
          const counts = applied.map((names) => names.length).sort((a, b) => a - b);
          expect(counts.slice(0, -1)).to.deep.equal([0, 0]);
          expect(counts.at(-1)).to.be.greaterThan(0);
        } finally {
          await Promise.all(instances.slice(1).map((instance) => instance.close()));
          await empty.cleanup();
        }
      });
    });
  }
});
