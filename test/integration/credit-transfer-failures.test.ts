import { expect } from 'chai';
import { pino } from 'pino';
import supertest from 'supertest';
import { claimTransfer, findTransfer, listTransferEvents, listTransfersOfTransactions, writeCreditDestination, type CreditTransfer } from '../../src/db/credit-transfers/transfer-repository.js';
import { getAccountByCode } from '../../src/db/ledger/ledger-repository.js';
import { transferComment } from '../../src/domain/credit-transfers/transfers.js';
import { SystemAccount } from '../../src/domain/ledger/ledger.js';
import type { User } from '../../src/domain/people/users.js';
import { retryDelayMs } from '../../src/domain/shared/retry-delay.js';
import { newFormNonce } from '../../src/domain/shared/form-nonce.js';
import type { SimulatorFault } from '../../src/print-systems/papercut/simulator/index.js';
import { createTransferDelivery, type TransferCounts } from '../../src/services/credit-transfers/transfer-delivery.js';
import { resolveCreditTransfer, type TransferDecision } from '../../src/services/credit-transfers/transfer-resolution.js';
import { testDialect } from '../helpers/database.js';
import { csrfTokenFrom, logIn } from '../helpers/portal.js';
import { BUYER_PASSWORD, pathOf, placeOrder, pay, useShop, type Shop } from '../helpers/topup.js';

const HOUR = 3600_000;
const ADMIN_PASSWORD = 'an admin password, long enough';
/** Camille's balance in PaperCut when the suite starts, in hundredths. */
const PAPERCUT_START = 1000;
const NOTHING: TransferCounts = { delivered: 0, retrying: 0, parked: 0, unknown: 0 };
/** As long as the portal's own claims (a dead holder is another instance configured alike). */
const LEASE_MS = 60_000;

describe(`credit transfers to PaperCut when things go wrong (${testDialect})`, () => {
  let shop: Shop;
  useShop((opened) => (shop = opened), {}, { papercut: { users: { camille: PAPERCUT_START } } });

  let gestion: User;
  let admin: ReturnType<typeof supertest.agent>;
  /** PaperCut's port: its address is the destination's, so it comes back on the same one after an outage. */
  let papercutPort: number;
  let running = true;
  let reasons = 0;

  const portal = () => shop.portal;
  const papercut = () => shop.portal.papercut!;
  const knex = () => shop.portal.db.knex;
  const deliver = () => shop.portal.printSystem!.delivery.deliverDue();
  const current = async (transfer: CreditTransfer) => (await findTransfer(knex(), transfer.id))!;
  const eventsOf = async (transfer: CreditTransfer) => listTransferEvents(knex(), transfer.id);
  /** What PaperCut's log holds of this transfer: each adjustment carries the transfer's comment. */
  const sent = (transfer: CreditTransfer) => papercut().transactions.filter((line) => line.comment === transferComment(transfer.ledgerTransactionId, transfer.description));
  const balance = () => papercut().balanceOf('camille')!;
  const decide = async (transfer: CreditTransfer, decision: TransferDecision, reason: string) =>
    resolveCreditTransfer(portal().db, { transfer: await current(transfer), decision, reason, actor: { id: gestion.id, username: gestion.username } }, portal().clock.now());

  /** The newest transfer of the ledger transaction described so (an order's number, an admin's reason). */
  async function transferDescribed(description: string): Promise<CreditTransfer> {
    const row = await knex()('credit_transfers')
      .join('ledger_transactions', 'ledger_transactions.id', 'credit_transfers.ledger_transaction_id')
      .where('ledger_transactions.description', description)
      .orderBy('credit_transfers.id', 'desc')
      .first('credit_transfers.id');
    expect(row, `a transfer for ${description}`).to.exist;
    return (await findTransfer(knex(), Number(row.id)))!;
  }

  /** Camille pays for `offer` through PayPal (her order placed while PaperCut was reachable); `meanwhile` runs before she approves. */
  async function topUp(offer = 'pack-10', meanwhile: () => Promise<void> | void = () => undefined): Promise<{ number: string; transfer: CreditTransfer }> {
    const number = await placeOrder(shop.agent, { offer, terms: String(shop.termsId) });
    const paypalOrderId = await pay(shop.agent, portal(), number);
    await meanwhile();
    await shop.agent.get(pathOf(portal().simulator.approve(paypalOrderId)));
    return { number, transfer: await transferDescribed(number) };
  }

  /** An admin refunds the whole order; returns the transfer of its take-back. */
  async function refund(number: string): Promise<CreditTransfer> {
    const page = (await admin.get(`/admin/orders/${number}`).expect(200)).text;
    const amount = /name="amount"[^>]* value="([^"]*)"/.exec(page)![1]!;
    const response = await admin.post(`/admin/orders/${number}/refund`).type('form').send({ _csrf: csrfTokenFrom(page), amount, nonce: newFormNonce(), reason: 'Achat en double' });
    expect(response.status, response.text.slice(0, 300)).to.equal(303);
    await portal().simulator.flushWebhooks();
    return transferDescribed(`${number} refund`);
  }

  /** An admin credits (or debits) Camille from her page in the administration; returns its transfer. */
  async function adjust(direction: 'credit' | 'debit', amount: string): Promise<CreditTransfer> {
    const reason = `Geste ${(reasons += 1)}`;
    const page = (await admin.get('/admin/people/camille').expect(200)).text;
    const response = await admin.post('/admin/people/camille/adjustments').type('form').send({ _csrf: csrfTokenFrom(page), nonce: newFormNonce(), direction, amount, reason });
    expect(response.status, response.text.slice(0, 300)).to.equal(303);
    return transferDescribed(reason);
  }

  /** The three postings that change Camille's balance from the portal's side, each queued and not yet delivered. */
  const postings: Array<[string, () => Promise<CreditTransfer>]> = [
    ['a top-up', async () => (await topUp()).transfer],
    [
      'a refund’s take-back',
      async () => {
        const { number } = await topUp();
        expect(await deliver()).to.deep.equal({ ...NOTHING, delivered: 1 });
        return refund(number);
      },
    ],
    ['an admin’s credit', () => adjust('credit', '3,50')],
  ];

  before(async () => {
    gestion = await portal().addUser('gestion', ADMIN_PASSWORD, { role: 'admin' });
    papercutPort = Number(new URL(papercut().url).port);
  });

  // Sessions end as the portal's clock moves on by hours here: each test signs in afresh.
  beforeEach(async () => {
    shop.agent = supertest.agent(portal().app);
    expect((await logIn(shop.agent, 'camille', BUYER_PASSWORD)).status).to.equal(303);
    admin = supertest.agent(portal().app);
    expect((await logIn(admin, 'gestion', ADMIN_PASSWORD)).status).to.equal(303);
  });

  afterEach(async () => {
    papercut().clearFaults();
    if (!running) await papercut().start(papercutPort);
    running = true;
    // Whatever each test went through: every transfer ended delivered, and PaperCut's log has each exactly once.
    const transfers = (await knex()('credit_transfers').select('id')) as Array<{ id: unknown }>;
    for (const { id } of transfers) {
      const transfer = (await findTransfer(knex(), Number(id)))!;
      expect(transfer.state, `transfer #${transfer.id}`).to.equal('delivered');
      expect(sent(transfer).map((line) => line.amountHundredths), `transfer #${transfer.id} in PaperCut`).to.deep.equal([transfer.amount]);
    }
    expect(papercut().transactions).to.have.length(transfers.length);
  });

  describe('the answer lost after PaperCut applied it', () => {
    const faults: Array<SimulatorFault['type']> = ['reset', 'http500', 'garbled'];
    for (const [posting, make] of postings) {
      for (const type of faults) {
        it(`${posting}, ${type} after applying: unknown with the balances seen, never sent again, then marked applied by an admin`, async () => {
          const transfer = await make();
          const before = balance();
          papercut().setFault({ type, afterApplying: true, method: 'api.adjustUserAccountBalance', times: 1 });
          expect(await deliver()).to.deep.equal({ ...NOTHING, unknown: 1 });
          expect(await current(transfer)).to.include({ state: 'unknown', attempts: 1 });
          expect(sent(transfer)).to.have.length(1);
          expect(balance()).to.equal(before + transfer.amount);
          const lost = (await eventsOf(transfer)).at(-1)!;
          expect(lost).to.include({ event: 'unknown', attempt: 1, balanceBefore: before, balanceAfter: before + transfer.amount });

          // However long it waits, nothing sends it again: only an admin decides.
          for (const hours of [1, 24, 100]) {
            portal().clock.advance(hours * HOUR);
            expect(await deliver()).to.deep.equal(NOTHING);
          }
          expect(await current(transfer)).to.include({ state: 'unknown', attempts: 1 });
          expect(sent(transfer)).to.have.length(1);

          expect(await decide(transfer, 'applied', 'Crédit visible dans PaperCut')).to.equal(true);
          expect(await current(transfer)).to.include({ state: 'delivered' });
          expect(await deliver()).to.deep.equal(NOTHING);
          expect(sent(transfer)).to.have.length(1);
          expect((await eventsOf(transfer)).at(-1)).to.include({ event: 'marked_applied', detail: 'Crédit visible dans PaperCut', actorId: gestion.id });
          expect(await knex()('audit_log').where({ action: 'credit-transfer.mark-applied', target: `#${transfer.id} camille` }).select('actor_username')).to.deep.equal([{ actor_username: 'gestion' }]);
        });
      }

      it(`${posting}, the connection reset before applying: unknown too (the client cannot tell), sent once when an admin sends it again`, async () => {
        const transfer = await make();
        const before = balance();
        papercut().setFault({ type: 'reset', method: 'api.adjustUserAccountBalance', times: 1 });
        expect(await deliver()).to.deep.equal({ ...NOTHING, unknown: 1 });
        expect(sent(transfer)).to.have.length(0);
        // The admin's evidence: the balance did not move.
        expect((await eventsOf(transfer)).at(-1)).to.include({ event: 'unknown', balanceBefore: before, balanceAfter: before });
        portal().clock.advance(HOUR);
        expect(await deliver()).to.deep.equal(NOTHING);

        expect(await decide(transfer, 'send_again', 'Solde inchangé dans PaperCut')).to.equal(true);
        expect(await current(transfer)).to.include({ state: 'pending' });
        expect(await deliver()).to.deep.equal({ ...NOTHING, delivered: 1 });
        expect(await current(transfer)).to.include({ state: 'delivered', attempts: 2 });
        expect(sent(transfer)).to.have.length(1);
        expect(balance()).to.equal(before + transfer.amount);
        expect((await eventsOf(transfer)).map((event) => event.event)).to.deep.equal(['attempt', 'unknown', 'sent_again', 'attempt', 'delivered']);
      });
    }
  });

  it('PaperCut down for an hour: the top-up, refund and credit made meanwhile are retried with growing delays, then delivered once when it is back', async () => {
    const { number } = await topUp('pack-20');
    expect(await deliver()).to.deep.equal({ ...NOTHING, delivered: 1 });
    const logged = papercut().transactions.length;
    const down = async () => {
      await papercut().stop();
      running = false;
    };
    const { transfer: paid } = await topUp('pack-10', down);
    const transfers = [paid, await refund(number), await adjust('credit', '1,25')];
    const downSince = portal().clock.now().getTime();

    for (let attempts = 1; portal().clock.now().getTime() - downSince < HOUR; attempts += 1) {
      expect(await deliver()).to.deep.equal({ ...NOTHING, retrying: transfers.length });
      const next = new Date(portal().clock.now().getTime() + retryDelayMs(attempts));
      for (const transfer of transfers) {
        const now = await current(transfer);
        expect(now).to.include({ state: 'pending', attempts });
        expect(now.nextAttemptAt).to.deep.equal(next);
        expect(now.lastError).to.match(/before sending/);
      }
      // Not due before its time.
      portal().clock.advance(retryDelayMs(attempts) - 1);
      expect(await deliver()).to.deep.equal(NOTHING);
      portal().clock.advance(1);
    }
    expect(papercut().transactions).to.have.length(logged);

    await papercut().start(papercutPort);
    running = true;
    expect(await deliver()).to.deep.equal({ ...NOTHING, delivered: transfers.length });
    for (const transfer of transfers) {
      expect(await current(transfer)).to.include({ state: 'delivered', attempts: 7 });
      expect(sent(transfer)).to.have.length(1);
      expect((await eventsOf(transfer)).map((event) => event.event)).to.deep.equal([...Array<string>(6).fill('retry'), 'attempt', 'delivered']);
    }
  });

  it('two deliveries at once over the same database: each transfer reaches PaperCut once', async () => {
    const transfers = [];
    for (let index = 1; index <= 10; index += 1) transfers.push(await adjust('credit', `${index},00`));
    const { delivery } = portal().printSystem!;
    const other = createTransferDelivery({
      db: portal().db,
      clock: portal().clock,
      logger: pino({ enabled: false }),
      destination: delivery.destination,
      giveUpAfterMs: portal().config.credits.giveUpHours * HOUR,
      deliverOnPosting: false,
      leaseMs: LEASE_MS,
    });
    const logged = papercut().transactions.length;
    const [one, two] = await Promise.all([delivery.deliverDue(), other.deliverDue()]);
    expect(one.delivered + two.delivered).to.equal(10);
    expect({ ...one, delivered: 0 }).to.deep.equal(NOTHING);
    expect({ ...two, delivered: 0 }).to.deep.equal(NOTHING);
    const comments = papercut().transactions.slice(logged).map((line) => line.comment);
    expect(comments).to.have.length(10);
    expect(new Set(comments).size).to.equal(10);
    for (const transfer of transfers) expect(sent(transfer)).to.have.length(1);
  });

  it('an attempt whose process died after claiming: unknown once its lease ran out, never sent, then sent once by an admin', async () => {
    const transfer = await adjust('credit', '2,00');
    const before = balance();
    // Another instance claimed it and died before finishing (a dead holder never finishes its attempt).
    expect(await claimTransfer(knex(), transfer.id, portal().clock.now(), LEASE_MS)).to.include({ state: 'delivering' });
    portal().clock.advance(LEASE_MS - 1);
    expect(await deliver()).to.deep.equal(NOTHING);
    expect(await current(transfer)).to.include({ state: 'delivering' });

    portal().clock.advance(2);
    expect(await deliver()).to.deep.equal({ ...NOTHING, unknown: 1 });
    expect(await current(transfer)).to.include({ state: 'unknown' });
    expect((await eventsOf(transfer)).map((event) => event.event)).to.deep.equal(['interrupted']);
    expect(sent(transfer)).to.have.length(0);
    expect(balance()).to.equal(before);
    portal().clock.advance(HOUR);
    expect(await deliver()).to.deep.equal(NOTHING);

    expect(await decide(transfer, 'send_again', 'Solde inchangé')).to.equal(true);
    expect(await deliver()).to.deep.equal({ ...NOTHING, delivered: 1 });
    expect(sent(transfer)).to.have.length(1);
    expect(balance()).to.equal(before + transfer.amount);
  });

  it('a person unknown to PaperCut when the transfer goes: parked with the reason, delivered once after they were created and it was sent again', async () => {
    const { transfer } = await topUp('pack-10', () => papercut().removeUser('camille'));
    expect(await deliver()).to.deep.equal({ ...NOTHING, parked: 1 });
    const parked = await current(transfer);
    expect(parked).to.include({ state: 'parked', attempts: 1 });
    expect(parked.lastError).to.match(/User cannot be found/);
    expect((await eventsOf(transfer)).map((event) => event.event)).to.deep.equal(['parked']);
    portal().clock.advance(HOUR);
    expect(await deliver()).to.deep.equal(NOTHING);
    expect(sent(transfer)).to.have.length(0);

    papercut().setBalance('camille', PAPERCUT_START);
    expect(await decide(transfer, 'send_again', 'Compte créé dans PaperCut')).to.equal(true);
    expect(await deliver()).to.deep.equal({ ...NOTHING, delivered: 1 });
    expect(sent(transfer)).to.have.length(1);
    expect(balance()).to.equal(PAPERCUT_START + transfer.amount);
  });

  it('a web services token PaperCut refuses: retried with growing delays, parked after the give-up period, never sent', async () => {
    const transfer = await adjust('credit', '4,00');
    papercut().setFault({ type: 'bad_token' });
    const queuedAt = portal().clock.now().getTime();
    for (const attempts of [1, 2, 3]) {
      expect(await deliver()).to.deep.equal({ ...NOTHING, retrying: 1 });
      const now = await current(transfer);
      expect(now).to.include({ state: 'pending', attempts });
      expect(now.lastError).to.match(/Access denied/);
      expect(now.nextAttemptAt).to.deep.equal(new Date(portal().clock.now().getTime() + retryDelayMs(attempts)));
      portal().clock.advance(retryDelayMs(attempts));
    }
    const giveUpMs = portal().config.credits.giveUpHours * HOUR;
    portal().clock.advance(queuedAt + giveUpMs - portal().clock.now().getTime());
    expect(await deliver()).to.deep.equal({ ...NOTHING, retrying: 1 });
    portal().clock.advance(HOUR);
    expect(await deliver()).to.deep.equal({ ...NOTHING, parked: 1 });
    expect((await current(transfer)).lastError).to.match(/Access denied/);
    expect(sent(transfer)).to.have.length(0);

    // The token mended, an admin sends it again.
    papercut().clearFaults();
    expect(await decide(transfer, 'send_again', 'Jeton corrigé')).to.equal(true);
    expect(await deliver()).to.deep.equal({ ...NOTHING, delivered: 1 });
    expect(sent(transfer)).to.have.length(1);
  });

  it('a refund’s take-back reaches PaperCut once, as a negative adjustment', async () => {
    const { number, transfer: paid } = await topUp('pack-20');
    expect(await deliver()).to.deep.equal({ ...NOTHING, delivered: 1 });
    const before = balance();
    const takeBack = await refund(number);
    expect(takeBack.amount).to.equal(-paid.amount);
    expect(await deliver()).to.deep.equal({ ...NOTHING, delivered: 1 });
    expect(await deliver()).to.deep.equal(NOTHING);
    expect(sent(takeBack).map((line) => line.amountHundredths)).to.deep.equal([-paid.amount]);
    expect(balance()).to.equal(before - paid.amount);
  });
});

describe(`credit transfers queued before CREDIT_DESTINATION changed (${testDialect})`, () => {
  let shop: Shop;
  useShop((opened) => (shop = opened), {}, { papercut: { users: { camille: PAPERCUT_START } } });

  it('stay with the destination they were queued for: PaperCut never receives them; an attempt left unfinished becomes unknown, never sent', async () => {
    const { portal, camille } = shop;
    const knex = portal.db.knex;
    const { destination } = portal.printSystem!.delivery;
    // Queued while another instance (or an earlier configuration) sent credits to a webhook.
    await writeCreditDestination(knex, { kind: 'webhook', label: 'https://print.example.edu/recharge' }, portal.clock.now());
    const credit = async (idempotencyKey: string) => {
      const lines = [
        { accountId: (await portal.ledger.userAccount(camille.id)).id, amount: 600 },
        { accountId: (await getAccountByCode(knex, SystemAccount.adjustments)).id, amount: -600 },
      ];
      const { transactionId } = await portal.ledger.post({ idempotencyKey, kind: 'adjustment', lines, description: 'Crédit avant le changement' });
      return (await listTransfersOfTransactions(knex, [transactionId]))[0]!;
    };
    const waiting = await credit('before-the-switch:1');
    const abandoned = await credit('before-the-switch:2');
    await writeCreditDestination(knex, { kind: destination.kind, label: destination.label }, portal.clock.now());
    expect(waiting).to.include({ destination: 'webhook', state: 'pending' });
    // The webhook's worker claimed this one and stopped.
    expect(await claimTransfer(knex, abandoned.id, portal.clock.now(), LEASE_MS)).to.include({ state: 'delivering' });
    portal.clock.advance(LEASE_MS + 1);

    // Even though the webhook deduplicates, only the webhook's own worker could send it again: here it waits for an admin.
    expect(await portal.printSystem!.delivery.deliverDue()).to.deep.equal({ ...NOTHING, unknown: 1 });
    expect(await findTransfer(knex, waiting.id)).to.include({ state: 'pending', attempts: 0 });
    expect(await findTransfer(knex, abandoned.id)).to.include({ state: 'unknown', attempts: 1 });
    expect(portal.papercut!.transactions).to.deep.equal([]);
  });
});
