import { expect } from 'chai';
import { seedDemoData } from '../../src/services/demo/demo.js';
import pino from 'pino';
import supertest from 'supertest';
import { findTransfer, listTransferEvents, listTransfers, type CreditTransfer } from '../../src/db/credit-transfers/transfer-repository.js';
import { newFormNonce } from '../../src/domain/shared/form-nonce.js';
import type { CreditDestination } from '../../src/print-systems/credit-destination.js';
import { createPaperCutDestination } from '../../src/print-systems/papercut/papercut-destination.js';
import { createPaperCutSimulator } from '../../src/print-systems/papercut/simulator/index.js';
import { recordCreditDestination } from '../../src/services/credit-transfers/destination-setup.js';
import { createTransferDelivery } from '../../src/services/credit-transfers/transfer-delivery.js';
import { resolveCreditTransfer } from '../../src/services/credit-transfers/transfer-resolution.js';
import { createAdjustments } from '../../src/services/ledger/adjustments.js';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';
import { until } from '../helpers/waiting.js';
import { orderSentToPayPal, pathOf, useShop, type Shop } from '../helpers/topup.js';

/** The lease a test portal's attempts hold (print-system.ts: at least a minute). */
const LEASE_MS = 60_000;

describe('Credits transferred to PaperCut', () => {
  let shop: Shop;
  useShop((opened) => (shop = opened), {}, { papercut: { users: { camille: 250 } } });

  it('a paid top-up reaches PaperCut once, with its transaction and order in the comment', async () => {
    const { portal, agent } = shop;
    const { number, paypalOrderId } = await orderSentToPayPal(shop);
    await agent.get(pathOf(portal.simulator.approve(paypalOrderId)));
    const { transfers } = await listTransfers(portal.db.knex, { offset: 0, limit: 10 });
    expect(transfers).to.have.length(1);
    expect(transfers[0]).to.include({ state: 'pending', username: 'camille', destination: 'papercut' });
    const counts = await portal.printSystem!.delivery.deliverDue();
    expect(counts).to.deep.equal({ delivered: 1, retrying: 0, parked: 0, unknown: 0 });
    const papercut = portal.papercut!;
    expect(papercut.transactions).to.have.length(1);
    expect(papercut.transactions[0]!.amountHundredths).to.equal(transfers[0]!.amount);
    expect(papercut.transactions[0]!.comment).to.equal(`Recharge #${transfers[0]!.ledgerTransactionId} ${number}`);
    expect(papercut.balanceOf('camille')).to.equal(250 + transfers[0]!.amount);
    // Delivering again finds nothing to do.
    expect(await portal.printSystem!.delivery.deliverDue()).to.deep.equal({ delivered: 0, retrying: 0, parked: 0, unknown: 0 });
    const events = await listTransferEvents(portal.db.knex, transfers[0]!.id);
    expect(events.map((event) => event.event)).to.deep.equal(['attempt', 'delivered']);
    expect(events[0]!.balanceBefore).to.equal(250);
  });

  it('shows the credit on the account page as soon as it reached PaperCut, not after the balance cache', async () => {
    const { portal, agent } = shop;
    const printBalance = async () => Number(/data-print-balance="(-?\d+)"/.exec((await agent.get('/account').expect(200)).text)?.[1]);
    const before = await printBalance();
    expect(before).to.equal(portal.papercut!.balanceOf('camille'));
    const { paypalOrderId } = await orderSentToPayPal(shop);
    await agent.get(pathOf(portal.simulator.approve(paypalOrderId)));
    await portal.printSystem!.delivery.deliverDue();
    // The clock has not moved: a remembered balance would still be shown.
    expect(await printBalance()).to.equal(portal.papercut!.balanceOf('camille')).and.to.be.greaterThan(before);
  });
});

describe('Credits of the demo history, with PaperCut down at the first start', () => {
  it('are retried, not parked: their give-up time counts from the seeding, not from the dates of the history', async () => {
    const portal = await createTestPortal({}, { papercut: { users: { etudiant: 0 } } });
    try {
      await seedDemoData({ db: portal.db, clock: portal.clock, users: portal.users });
      await portal.papercut!.stop();
      const counts = await portal.printSystem!.delivery.deliverDue();
      const { transfers } = await listTransfers(portal.db.knex, { offset: 0, limit: 100 });
      expect(transfers.length).to.be.greaterThan(1);
      expect(counts).to.deep.equal({ delivered: 0, retrying: transfers.length, parked: 0, unknown: 0 });
      expect(transfers.every((transfer) => transfer.state === 'pending' && transfer.attempts === 1)).to.equal(true);
    } finally {
      await portal.cleanup();
    }
  });
});

describe('Credit transfers when things go astray around an attempt', () => {
  const PASSWORD = 'a good long password';
  let portal: TestPortal | undefined;
  afterEach(() => portal?.cleanup());

  async function credit(open: TestPortal, username: string, amount: string): Promise<CreditTransfer> {
    const root = (await open.users.findUser('root')) ?? (await open.addUser('root', PASSWORD, { role: 'admin' }));
    await createAdjustments({ db: open.db, clock: open.clock }).adjust(root, username, { direction: 'credit', amount, reason: `credit ${amount}`, nonce: newFormNonce() });
    return (await listTransfers(open.db.knex, { offset: 0, limit: 1 })).transfers[0]!;
  }

  it('an attempt that stalled past its lease before sending does not send once it was taken over and sent again', async () => {
    const papercut = createPaperCutSimulator({ users: { camille: 0 } });
    const real = createPaperCutDestination({ url: await papercut.start(), authToken: papercut.authToken, timeoutMs: 2000 });
    let release!: () => void;
    const stalled = new Promise<void>((resolve) => (release = resolve));
    let reads = 0;
    // The first attempt's process stalls (a paused machine, a long pause of its database pool) between its claim and its send.
    const stalling: CreditDestination = {
      ...real,
      readBalance: async (username) => {
        reads += 1;
        if (reads === 1) await stalled;
        return real.readBalance!(username);
      },
    };
    portal = await createTestPortal({}, { creditDestination: stalling });
    try {
      await portal.addUser('camille', PASSWORD);
      const transfer = await credit(portal, 'camille', '5');
      const first = portal.printSystem!.delivery.deliverDue();
      await until(() => reads === 1, 'the first attempt reading the balance');
      portal.clock.advance(LEASE_MS + 1);
      const other = createTransferDelivery({ db: portal.db, clock: portal.clock, logger: pino({ level: 'silent' }), destination: stalling, giveUpAfterMs: 72 * 3600_000, deliverOnPosting: false, leaseMs: LEASE_MS });
      expect(await other.deliverDue()).to.include({ unknown: 1 });
      // Rightly so: PaperCut's balance is unchanged, so the admin sends it again, and it is delivered.
      const unknown = (await findTransfer(portal.db.knex, transfer.id))!;
      expect(await resolveCreditTransfer(portal.db, { transfer: unknown, decision: 'send_again', reason: 'balance unchanged', actor: { id: null, username: 'cli:test' } }, portal.clock.now())).to.equal(true);
      expect(await other.deliverDue()).to.include({ delivered: 1 });
      release();
      expect(await first).to.deep.equal({ delivered: 0, retrying: 0, parked: 0, unknown: 0 });
      expect(papercut.transactions.map((line) => line.amountHundredths)).to.deep.equal([500]);
    } finally {
      release();
      await papercut.stop();
    }
  });

  it('refuses "send again" for a transfer queued for another destination than today\'s: no worker would ever take it', async () => {
    portal = await createTestPortal({}, { papercut: { users: { camille: 0 } } });
    await portal.addUser('camille', PASSWORD);
    const transfer = await credit(portal, 'camille', '5');
    await portal.db.knex('credit_transfers').where('id', transfer.id).update({ destination: 'webhook', state: 'parked', attempts: 1, last_error: 'HTTP 422' });
    const admin = supertest.agent(portal.app);
    await logIn(admin, 'root', PASSWORD);
    const page = (await admin.get(`/admin/transfers/${transfer.id}`).expect(200)).text;
    const response = await admin.post(`/admin/transfers/${transfer.id}/decision`).type('form').send({ _csrf: csrfTokenFrom(page), state: 'parked', attempts: '1', decision: 'send_again', reason: 'retry it' });
    expect(response.status).to.equal(409);
    expect((await findTransfer(portal.db.knex, transfer.id))!.state).to.equal('parked');
  });

  it('retries, rather than parks, a transfer PaperCut\'s address refused (a wrong path: HTTP 404)', async () => {
    const papercut = createPaperCutSimulator({ users: { camille: 0 } });
    const url = new URL(await papercut.start());
    url.pathname = '/rpc/api/wrong';
    portal = await createTestPortal({}, { creditDestination: createPaperCutDestination({ url: url.href, authToken: papercut.authToken, timeoutMs: 2000 }) });
    try {
      await portal.addUser('camille', PASSWORD);
      const transfer = await credit(portal, 'camille', '5');
      expect(await portal.printSystem!.delivery.deliverDue()).to.include({ retrying: 1 });
      expect((await findTransfer(portal.db.knex, transfer.id))!.state).to.equal('pending');
    } finally {
      await papercut.stop();
    }
  });

  it('says in the log, at every run, when another instance recorded another destination (credits are then not queued for this one)', async () => {
    portal = await createTestPortal({}, { papercut: { users: { camille: 0 } } });
    // What server.ts does at the start of an instance of the same database configured for the ledger alone.
    await recordCreditDestination(portal.db, null, portal.clock.now());
    await portal.printSystem!.delivery.deliverDue();
    expect(portal.logs.some((line) => line.level === 50 && String(line.msg).includes('not this instance'))).to.equal(true);
  });
});
