import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { transferComment } from '../../src/domain/credit-transfers/transfers.js';
import { createPaperCutSimulator, type PaperCutSimulator } from '../../src/print-systems/papercut/simulator/index.js';
import { createTestDatabase, expectLedgerConsistent, type TestDatabase } from '../helpers/database.js';
import { until } from '../helpers/waiting.js';
import {
  adjust,
  adjustmentsPerTransaction,
  creditingPaperCut,
  demoPeopleInPaperCut,
  eventsOf,
  killAtOnce,
  readTransfers,
  signedInAdmin,
  type TransferRow,
} from './papercut-processes.js';
import { startPortalProcess, type PortalProcess } from './portal-process.js';

/** The demo people the admin adjusts (the ones the demo seeds as portal accounts). */
const PEOPLE = ['etudiant', 'informatique', 'reprographie', 'admin'];

/** Portal processes on one PostgreSQL database, and a PaperCut simulator of the test's own they all credit. */
async function startBench(): Promise<{ database: TestDatabase; papercut: PaperCutSimulator; uploadsDir: string; env: NodeJS.ProcessEnv }> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) throw new Error('this test needs PostgreSQL: set TEST_DATABASE_URL (npm run test:instances defaults to postgres://postgres@127.0.0.1:5432/postgres)');
  const database = await createTestDatabase({ migrated: false });
  const papercut = createPaperCutSimulator({ users: demoPeopleInPaperCut() });
  await papercut.start();
  const uploadsDir = await mkdtemp(path.join(tmpdir(), 'recharge-instances-uploads-'));
  // Development: PAPERCUT_URL is plain http (production requires https), the demo seeds the admin.
  const env = {
    NODE_ENV: 'development',
    DATABASE_URL: database.url,
    SESSION_SECRET: randomBytes(32).toString('hex'),
    UPLOADS_DIR: uploadsDir,
    LOG_LEVEL: 'info',
    RECONCILE_INTERVAL_SECONDS: '0',
    ...creditingPaperCut(papercut, 10_000),
  };
  return { database, papercut, uploadsDir, env };
}

async function ready(...instances: PortalProcess[]): Promise<void> {
  await Promise.all(instances.map((instance) => instance.ready)).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\n${instances.map((instance) => `--- ${instance.name} ---\n${instance.output}`).join('\n')}`);
  });
}

const settled = (transfers: TransferRow[]) => transfers.every((transfer) => transfer.state !== 'pending' && transfer.state !== 'delivering');

describe('credit transfers to PaperCut from portal processes on one PostgreSQL database', function () {
  this.timeout(90_000);

  describe('two instances delivering at once', () => {
    let bench: Awaited<ReturnType<typeof startBench>>;
    let a: PortalProcess;
    let b: PortalProcess;

    before(async () => {
      bench = await startBench();
      // Started together on an empty database: one seeds the demo, whose credits both find queued at start.
      a = startPortalProcess('A', bench.env);
      b = startPortalProcess('B', bench.env);
      await ready(a, b);
    });

    after(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
      await bench?.papercut.stop();
      await bench?.database.cleanup();
      if (bench) await rm(bench.uploadsDir, { recursive: true, force: true });
    });

    it('sends each credit to PaperCut exactly once while both instances deliver every second', async () => {
      const knex = bench.database.db.knex;
      // Forty adjustments, half through each instance, by four admin sessions at once (two on each);
      // every fifth takes back part of what the person was given before.
      const sessions = [await signedInAdmin(a), await signedInAdmin(b), await signedInAdmin(a), await signedInAdmin(b)];
      const adjustments = Array.from({ length: 40 }, (_, index) => ({
        username: PEOPLE[index % PEOPLE.length] as string,
        fields: { direction: index % 5 === 4 ? 'debit' : 'credit', amount: `${1 + (index % 7)},${String(index).padStart(2, '0')}`, reason: `Geste ${index}` } as const,
      }));
      for (let start = 0; start < adjustments.length; start += sessions.length) {
        const batch = adjustments.slice(start, start + sessions.length);
        const answers = await Promise.all(batch.map(({ username, fields }, lane) => adjust(sessions[lane]!, username, fields)));
        for (const answer of answers) expect(answer.status, answer.text.slice(0, 300)).to.equal(303);
      }

      const transfers = await until(async () => {
        const all = await readTransfers(knex);
        return all.filter((transfer) => transfer.description?.startsWith('Geste ')).length === adjustments.length && settled(all) && all;
      }, 'every transfer is delivered');

      // The demo's credits (queued by the seeding, found by both at start) and the admin's adjustments.
      expect(transfers.length).to.be.greaterThan(adjustments.length);
      expect(transfers.filter((transfer) => transfer.state !== 'delivered')).to.deep.equal([]);
      const perTransaction = adjustmentsPerTransaction(bench.papercut);
      for (const transfer of transfers) expect(perTransaction.get(transfer.ledgerTransactionId), `transfer ${transfer.id}`).to.equal(1);
      expect(bench.papercut.transactions).to.have.length(transfers.length);
      for (const transaction of bench.papercut.transactions) {
        const transfer = transfers.find((candidate) => transaction.comment === transferComment(candidate.ledgerTransactionId, candidate.description));
        expect(transfer, transaction.comment).to.not.equal(undefined);
        expect([transaction.username, transaction.amountHundredths]).to.deep.equal([transfer!.username, transfer!.amount]);
      }
      for (const username of PEOPLE) {
        const sent = transfers.filter((transfer) => transfer.username === username).reduce((total, transfer) => total + transfer.amount, 0);
        expect(bench.papercut.balanceOf(username), username).to.equal(sent);
      }
      // One attempt each: a transfer one instance had claimed was never tried by the other.
      for (const transfer of transfers) expect(await eventsOf(knex, transfer.id), `transfer ${transfer.id}`).to.deep.equal(['attempt', 'delivered']);
      await expectLedgerConsistent(bench.database.db);
    });
  });

  describe('the process killed mid-delivery', () => {
    let bench: Awaited<ReturnType<typeof startBench>>;
    let first: PortalProcess;
    let second: PortalProcess | undefined;

    before(async () => {
      bench = await startBench();
      first = startPortalProcess('first', bench.env);
      await ready(first);
    });

    after(async () => {
      await Promise.all([first?.stop(), second?.stop()]);
      await bench?.papercut.stop();
      await bench?.database.cleanup();
      if (bench) await rm(bench.uploadsDir, { recursive: true, force: true });
    });

    it('leaves the credit PaperCut applied as unknown, never sends it again, and delivers the rest', async () => {
      const knex = bench.database.db.knex;
      const { papercut } = bench;
      await until(async () => settled(await readTransfers(knex)) && (await readTransfers(knex)).length > 0, "the demo's credits are delivered");
      const before = papercut.transactions.length;

      // PaperCut applies the next adjustment and never answers; the instance is killed while it waits.
      papercut.setFault({ type: 'timeout', afterApplying: true, method: 'api.adjustUserAccountBalance' });
      expect((await adjust(await signedInAdmin(first), 'etudiant', { direction: 'credit', amount: '7', reason: 'Interrompu' })).status).to.equal(303);
      await until(() => papercut.transactions.length === before + 1, 'PaperCut has applied the adjustment');
      await killAtOnce(first);
      const [held] = (await readTransfers(knex)).filter((transfer) => transfer.description === 'Interrompu');
      expect(held).to.include({ state: 'delivering', amount: 700 });
      expect(papercut.transactions.at(-1)!.comment).to.equal(`Recharge #${held!.ledgerTransactionId} Interrompu`);

      // Another instance: while the dead one's lease runs it leaves that transfer alone, and delivers a new credit.
      papercut.clearFaults();
      second = startPortalProcess('second', bench.env);
      await ready(second);
      const admin = await signedInAdmin(second);
      expect((await adjust(admin, 'etudiant', { direction: 'credit', amount: '3', reason: 'Après le redémarrage' })).status).to.equal(303);
      await until(async () => (await readTransfers(knex)).find((transfer) => transfer.description === 'Après le redémarrage')?.state === 'delivered', 'the new credit is delivered');
      expect((await readTransfers(knex)).find((transfer) => transfer.id === held!.id)?.state).to.equal('delivering');
      expect(adjustmentsPerTransaction(papercut).get(held!.ledgerTransactionId)).to.equal(1);

      // The lease runs out (a minute, moved into the past here rather than waited for): the next run takes the attempt over.
      await knex('credit_transfers').where('id', held!.id).update({ lease_until: new Date(Date.now() - 1000).toISOString() });
      // The state changes first, the event is written next: waited for both.
      await until(async () => (await eventsOf(knex, held!.id)).includes('interrupted'), 'the interrupted attempt is recorded');
      expect(await eventsOf(knex, held!.id)).to.deep.equal(['attempt', 'interrupted']);
      expect((await readTransfers(knex)).find((transfer) => transfer.id === held!.id)?.state).to.equal('unknown');
      const row = await knex('credit_transfers').where('id', held!.id).first('last_error');
      expect(row.last_error).to.include('interrupted');

      // Runs go on (a third credit delivered after it): the unknown one is never sent again, its credit is in PaperCut once.
      expect((await adjust(admin, 'etudiant', { direction: 'credit', amount: '1', reason: 'Encore un' })).status).to.equal(303);
      await until(async () => (await readTransfers(knex)).find((transfer) => transfer.description === 'Encore un')?.state === 'delivered', 'the third credit is delivered');
      const transfers = await readTransfers(knex);
      expect(transfers.find((transfer) => transfer.id === held!.id)?.state).to.equal('unknown');
      expect(await eventsOf(knex, held!.id)).to.deep.equal(['attempt', 'interrupted']);
      const perTransaction = adjustmentsPerTransaction(papercut);
      for (const transfer of transfers) expect(perTransaction.get(transfer.ledgerTransactionId), `transfer ${transfer.id} (${transfer.state})`).to.equal(1);
      expect(papercut.transactions).to.have.length(transfers.length);
      expect(transfers.filter((transfer) => transfer.state !== 'delivered').map((transfer) => transfer.id)).to.deep.equal([held!.id]);
    });
  });
});
