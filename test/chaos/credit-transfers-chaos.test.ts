import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createDatabase, type Database } from '../../src/db/database.js';
import { findTransfer } from '../../src/db/credit-transfers/transfer-repository.js';
import { findUserByUsername } from '../../src/db/people/user-repository.js';
import { createPaperCutSimulator, type CallAnswer, type PaperCutSimulator, type SimulatorFault } from '../../src/print-systems/papercut/simulator/index.js';
import { resolveCreditTransfer } from '../../src/services/credit-transfers/transfer-resolution.js';
import { until } from '../helpers/waiting.js';
import {
  adjust,
  adjustmentsPerTransaction,
  creditingPaperCut,
  DEMO_ADMIN,
  DEMO_STUDENT,
  demoPeopleInPaperCut,
  ledgerTransactionOf,
  payTopUp,
  readTransfers,
  signedIn,
  signedInAdmin,
  type TransferRow,
} from '../instances/papercut-processes.js';
import { startPortalProcess, type PortalProcess } from '../instances/portal-process.js';
import { createPrivatePostgres, type PrivatePostgres } from './private-postgres.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ADJUST = 'api.adjustUserAccountBalance' as const;
/** PaperCut's answer timeout for the portal: attempts are short, so a transfer held longer than STALE_MS was abandoned. */
const TIMEOUT_MS = 2_000;
/** The portal's lease on an attempt (max(60 s, 3 × timeout + 10 s), services/credit-transfers/print-system.ts). */
const LEASE_MS = 60_000;
const STALE_MS = 15_000;
const PEOPLE = ['etudiant', 'informatique', 'reprographie'];

const settled = (transfers: TransferRow[]) => transfers.every((transfer) => transfer.state !== 'pending' && transfer.state !== 'delivering');

/**
 * The chaos of the top-up tests, extended to the transfers to PaperCut: while admins credit people
 * and the student pays top-ups, PaperCut answers 500, resets or garbles its answers after applying,
 * goes away and comes back on its port, and PostgreSQL restarts. Whatever happened, no credit reaches
 * PaperCut twice, each transfer ends delivered, parked or unknown, and an admin's decisions on the
 * doubtful ones leave every credit in PaperCut exactly once.
 */
describe('credit transfers to PaperCut under chaos', function () {
  this.timeout(120_000);
  let postgres: PrivatePostgres;
  let papercut: PaperCutSimulator;
  let port: number;
  let uploadsDir: string;
  let portal: PortalProcess;
  let db: Database | undefined;

  before(async () => {
    postgres = await createPrivatePostgres();
    papercut = createPaperCutSimulator({ users: demoPeopleInPaperCut() });
    port = Number(new URL(await papercut.start()).port);
    uploadsDir = await mkdtemp(path.join(tmpdir(), 'recharge-chaos-uploads-'));
    portal = startPortalProcess('chaos', {
      NODE_ENV: 'development',
      DATABASE_URL: postgres.url,
      DATABASE_POOL_MAX: '4',
      SESSION_SECRET: randomBytes(32).toString('hex'),
      UPLOADS_DIR: uploadsDir,
      LOG_LEVEL: 'warn',
      // Payments the outage interrupted are found by the reconciler soon after.
      RECONCILE_INTERVAL_SECONDS: '2',
      OPEN_ORDERS_PER_PERSON: '50',
      PAYPAL_ORDERS_PER_PERSON_PER_MINUTE: '100',
      ...creditingPaperCut(papercut, TIMEOUT_MS),
    });
    await portal.ready.catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${portal.output}`);
    });
  });

  after(async () => {
    await portal?.stop();
    await db?.close();
    await papercut?.stop();
    await postgres?.remove();
    if (uploadsDir) await rm(uploadsDir, { recursive: true, force: true });
  });

  /** Sets a fault and waits until a call has met it: the load goes on meanwhile, so each fault is met. */
  async function fault(set: SimulatorFault, answer: CallAnswer): Promise<void> {
    const before = papercut.calls.filter((call) => call.answer === answer).length;
    papercut.setFault(set);
    await until(() => papercut.calls.filter((call) => call.answer === answer).length > before, `PaperCut has answered ${answer}`, 20_000);
  }

  it('sends no credit twice, leaves each transfer delivered, parked or unknown, and the admin’s decisions make each credit exactly once', async () => {
    const admins = [await signedInAdmin(portal), await signedInAdmin(portal), await signedInAdmin(portal)];
    const student = await signedIn(portal, DEMO_STUDENT);
    let loading = true;
    const outcomes = { done: 0, failed: 0 };
    const lane = async (work: (round: number) => Promise<unknown>) => {
      for (let round = 0; loading; round += 1) {
        try {
          await work(round);
          outcomes.done += 1;
        } catch {
          // Refused or unanswered while PostgreSQL is down: what the chaos is for; the ledger says what was posted.
          outcomes.failed += 1;
          await sleep(200);
        }
      }
    };
    const load = [
      ...admins.map((admin, index) =>
        lane(async (round) => {
          const answer = await adjust(admin, PEOPLE[round % PEOPLE.length] as string, { direction: 'credit', amount: `${1 + (round % 9)},${10 + index}`, reason: `Chaos ${index}-${round}` });
          if (answer.status !== 303) throw new Error(`adjustment answered ${answer.status}`);
        }),
      ),
      lane((round) => payTopUp(student, { offer: 'free', amount: String(5 + (round % 40)) })),
    ];

    await sleep(1_000);
    // PaperCut's server errors before running the call: reading a balance (nothing sent, retried) or an adjustment (a doubt).
    await fault({ type: 'http500', times: 3 }, 'http500');
    await fault({ type: 'reset', afterApplying: true, method: ADJUST, times: 1 }, 'reset');
    await papercut.stop();
    await sleep(2_000);
    await papercut.start(port);
    await fault({ type: 'garbled', afterApplying: true, method: ADJUST, times: 1 }, 'garbled');
    await postgres.stop();
    await sleep(2_000);
    await postgres.start();
    await sleep(1_000);
    await fault({ type: 'reset', method: ADJUST, times: 1 }, 'reset');
    await fault({ type: 'http500', afterApplying: true, method: ADJUST, times: 1 }, 'http500');
    loading = false;
    await Promise.all(load);
    papercut.clearFaults();

    expect(outcomes.done, JSON.stringify(outcomes)).to.be.greaterThan(10);
    expect(portal.output).not.to.match(/unhandled|UnhandledPromiseRejection/i);
    await until(async () => (await fetch(`${portal.url}/healthz`)).status === 200, 'the portal is healthy again');
    db = createDatabase({ dialect: 'postgres', connectionString: postgres.url }, { poolMax: 2 });
    const knex = db.knex;

    // Retries wait a minute and a dead attempt's lease a minute too: both moved into the past here, rather than waited for.
    const recovered = await until(
      async () => {
        await knex('credit_transfers').where('state', 'pending').update({ next_attempt_at: new Date().toISOString() });
        await knex('credit_transfers')
          .where('state', 'delivering')
          .where('lease_until', '<', new Date(Date.now() + LEASE_MS - STALE_MS).toISOString())
          .update({ lease_until: new Date(Date.now() - 1000).toISOString() });
        const transfers = await readTransfers(knex);
        return settled(transfers) && transfers;
      },
      'every transfer is delivered, parked or unknown',
      40_000,
    );

    const states = new Set(recovered.map((transfer) => transfer.state));
    expect([...states].every((state) => ['delivered', 'parked', 'unknown'].includes(state)), [...states].join()).to.equal(true);
    const perTransaction = adjustmentsPerTransaction(papercut);
    // Every adjustment PaperCut has is one of ours, none twice.
    for (const { comment } of papercut.transactions) expect(recovered.some((transfer) => transfer.ledgerTransactionId === ledgerTransactionOf(comment)), comment).to.equal(true);
    for (const transfer of recovered) {
      const sent = perTransaction.get(transfer.ledgerTransactionId) ?? 0;
      if (transfer.state === 'delivered') expect(sent, `delivered transfer ${transfer.id}`).to.equal(1);
      else if (transfer.state === 'unknown') expect(sent, `unknown transfer ${transfer.id}`).to.be.at.most(1);
      else expect(sent, `parked transfer ${transfer.id}`).to.equal(0);
    }
    // The faults after applying left doubts, with the credit in PaperCut; those before, doubts without it.
    const doubts = recovered.filter((transfer) => transfer.state === 'unknown');
    expect(doubts.some((transfer) => perTransaction.get(transfer.ledgerTransactionId) === 1)).to.equal(true);

    // An admin decides each doubt from PaperCut's log: applied when the credit is there, sent again when not.
    const admin = (await findUserByUsername(knex, DEMO_ADMIN.username))!;
    for (const doubt of recovered.filter((transfer) => transfer.state !== 'delivered')) {
      const inPaperCut = perTransaction.get(doubt.ledgerTransactionId) === 1;
      const transfer = (await findTransfer(knex, doubt.id))!;
      const decided = await resolveCreditTransfer(db, { transfer, decision: inPaperCut ? 'applied' : 'send_again', reason: 'Vérifié dans PaperCut', actor: admin }, new Date());
      expect(decided).to.equal(true);
    }
    const final = await until(async () => {
      const transfers = await readTransfers(knex);
      return settled(transfers) && transfers;
    }, 'the transfers sent again are delivered');
    expect(final.filter((transfer) => transfer.state !== 'delivered')).to.deep.equal([]);
    const once = adjustmentsPerTransaction(papercut);
    for (const transfer of final) expect(once.get(transfer.ledgerTransactionId), `transfer ${transfer.id}`).to.equal(1);
    expect(papercut.transactions).to.have.length(final.length);
    for (const username of PEOPLE) {
      const credited = final.filter((transfer) => transfer.username === username).reduce((total, transfer) => total + transfer.amount, 0);
      expect(papercut.balanceOf(username), username).to.equal(credited);
    }
  });
});
