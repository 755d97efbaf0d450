import { expect } from 'chai';
import type supertest from 'supertest';
import type { User } from '../../src/domain/people/users.js';
import { formatOrderNumber } from '../../src/domain/checkout/orders.js';
import { addDays } from '../../src/domain/time/calendar.js';
import type { RetentionCutoffs } from '../../src/domain/retention/retention-periods.js';
import { saveRefundPolicy } from '../../src/db/checkout/refund-policy-repository.js';
import { readDocuments, readOrders } from '../../src/db/people/personal-data-repository.js';
import { purgeRetentionBatch } from '../../src/db/retention/retention-repository.js';
import { AccountClosureError, anonymiseAccount, closeAccount } from '../../src/services/people/anonymisation.js';
import { expectLedgerConsistent, testDialect } from '../helpers/database.js';
import { createTestPortal, csrfTokenFrom, type TestPortal } from '../helpers/portal.js';
import { pathOf, publishOffers, restorePayments } from '../helpers/topup.js';
import { BUY, codesOfCsv, PURCHASES, voucherPurchaseSteps } from '../helpers/voucher-purchases.js';

type Agent = ReturnType<typeof supertest.agent>;

const nonceFrom = (html: string) => /name="nonce" value="([^"]+)"/.exec(html)![1]!;
const amountFrom = (html: string) => /name="amount"[^>]* value="([^"]*)"/.exec(html)![1]!;

/** What a review of the purchase of codes found: each test failed before its fix (see docs/architecture.md, "Batches bought by a department"). */
describe(`top-up codes bought by a department, after review (${testDialect})`, function () {
  this.timeout(120_000);
  let portal: TestPortal;
  let termsId: number;
  let adminUser: User;
  let admin: Agent;
  let student: { user: User; agent: Agent };

  const { knex, today, tokenOf, signedIn, signedInAgain, newBuyer, batchFields, orderBatch, boughtBatch, handOver, redeem, accountBalance } = voucherPurchaseSteps(() => ({ portal, termsId, admin }), {
    prefix: 'revsecretariat',
    defaults: { count: '2' },
  });
  const actor = () => ({ id: adminUser.id, username: adminUser.username });

  before(async () => {
    portal = await createTestPortal();
    termsId = await publishOffers(portal);
    const signedAdmin = await signedIn('revgestion', 'admin');
    adminUser = signedAdmin.user;
    admin = signedAdmin.agent;
    student = await signedIn('reveleve');
  });
  afterEach(() => restorePayments(portal));
  after(() => portal.cleanup());

  it('closing a buyer’s account cancels their voucher order not yet approved, as it does a top-up', async () => {
    const buyer = await newBuyer();
    const paypalOrderId = await orderBatch(buyer.agent);
    await closeAccount({ db: portal.db, clock: portal.clock }, buyer.user.username, actor());
    const order = await knex()('orders').where('paypal_order_id', paypalOrderId).first();
    // Left open, the buyer could still approve it in a PayPal tab: money taken for a closed account that can never download the codes.
    expect(order.status).to.equal('cancelled');
  });

  it('ends the right to buy with the account, and never gives it to a closed account', async () => {
    const buyer = await newBuyer();
    await closeAccount({ db: portal.db, clock: portal.clock }, buyer.user.username, actor());
    expect(await knex()('voucher_buyers').where('user_id', buyer.user.id)).to.have.length(0);
    const again = await admin.post('/admin/vouchers/buyers').type('form').send({ _csrf: await tokenOf(admin, '/admin/vouchers'), username: buyer.user.username.toUpperCase() });
    expect(again.status).to.equal(400);
    expect(await knex()('voucher_buyers').where('user_id', buyer.user.id)).to.have.length(0);
  });

  it('closing a buyer’s account is refused while their voucher order is being paid (capture pending)', async () => {
    const buyer = await newBuyer();
    const paypalOrderId = await orderBatch(buyer.agent);
    portal.simulator.setFault({ type: 'pending' });
    await buyer.agent.get(pathOf(portal.simulator.approve(paypalOrderId))).expect(303);
    portal.simulator.clearFaults();
    expect((await knex()('orders').where('paypal_order_id', paypalOrderId).first()).status).to.equal('capture_pending');
    let refusal: unknown = null;
    await closeAccount({ db: portal.db, clock: portal.clock }, buyer.user.username, actor()).catch((error: unknown) => (refusal = error));
    expect(refusal, 'closure went through while the voucher order is capture_pending').to.be.instanceOf(AccountClosureError);
  });

  it('puts a buyer’s voucher orders and receipts in their personal-data export', async () => {
    const buyer = await newBuyer();
    const { order } = await boughtBatch(buyer.agent);
    const receipt = await knex()('documents').where({ order_id: order.id, kind: 'receipt' }).first();
    expect(receipt.buyer_email).to.equal(buyer.user.email);
    const documents = await readDocuments(knex(), buyer.user.id);
    const orders = await readOrders(knex(), buyer.user.id);
    // The receipt is made out to the buyer (name, username, e-mail): it is theirs to download.
    expect(documents.map((document) => document.number), 'receipt missing from the export').to.include(receipt.number);
    expect(orders.map((row) => Number(row.id)), 'order missing from the export').to.include(Number(order.id));
  });

  it('detaches an anonymised buyer’s voucher receipts once the accounting period is over, as a top-up’s', async () => {
    const buyer = await newBuyer();
    const { order } = await boughtBatch(buyer.agent);
    const deps = { db: portal.db, clock: portal.clock };
    await closeAccount(deps, buyer.user.username, actor());
    await anonymiseAccount(deps, buyer.user.username, actor());
    const cutoffs = { accountingDocuments: new Date(portal.clock.now().getTime() + 86_400_000) } as unknown as RetentionCutoffs;
    while ((await purgeRetentionBatch(portal.db, 'accountingDocuments', cutoffs, 100)) > 0);
    const receipt = await knex()('documents').where({ order_id: order.id, kind: 'receipt' }).first();
    expect({ name: receipt.buyer_name, username: receipt.buyer_username, email: receipt.buyer_email }).to.deep.equal({ name: '', username: `closed-${buyer.user.id}`, email: '' });
  });

  it('applies the "refuse" refund policy to an order of codes: refused when every code was redeemed', async () => {
    await saveRefundPolicy(knex(), 'refuse');
    try {
      const buyer = await newBuyer();
      const { order, purchase } = await boughtBatch(buyer.agent);
      const codes = codesOfCsv((await handOver(buyer.agent, purchase.id, { format: 'csv' })).body as Buffer);
      for (const code of codes) expect((await redeem(student.agent, code)).status).to.equal(200);
      const vouchersBefore = await accountBalance('system:vouchers');
      const orderNumber = formatOrderNumber(Number(order.id), new Date(order.created_at));
      const page = (await admin.get(`/admin/orders/${orderNumber}`).expect(200)).text;
      const response = await admin
        .post(`/admin/orders/${orderNumber}/refund`)
        .type('form')
        .send({ _csrf: csrfTokenFrom(page), amount: amountFrom(page), nonce: nonceFrom(page), reason: 'Erreur' });
      const after = await knex()('orders').where('id', order.id).first();
      const taken = (await accountBalance('system:vouchers')) - vouchersBefore;
      // Every unit was spent by the codes' holders: refused, as a top-up's whose units were spent; nothing moves.
      expect({ status: after.status, taken, http: response.status }).to.deep.include({ status: 'paid', taken: 0 });
    } finally {
      await saveRefundPolicy(knex(), 'allow_negative');
    }
  });

  it('under the "refuse" policy refunds the codes not redeemed, and refuses more', async () => {
    await saveRefundPolicy(knex(), 'refuse');
    try {
      const buyer = await newBuyer();
      const { order, purchase } = await boughtBatch(buyer.agent);
      const codes = codesOfCsv((await handOver(buyer.agent, purchase.id, { format: 'csv' })).body as Buffer);
      expect((await redeem(student.agent, codes[0]!)).status).to.equal(200);
      const orderNumber = formatOrderNumber(Number(order.id), new Date(order.created_at));
      const refund = async (amount: string) => {
        const page = (await admin.get(`/admin/orders/${orderNumber}`).expect(200)).text;
        return admin.post(`/admin/orders/${orderNumber}/refund`).type('form').send({ _csrf: csrfTokenFrom(page), amount, nonce: nonceFrom(page), reason: 'Codes non distribués' });
      };
      const page = (await admin.get(`/admin/orders/${orderNumber}`).expect(200)).text;
      expect(page.replace(/\u00a0|\u202f/g, ' ')).to.include('1 code, soit 5,00 €');
      // Two codes of 5 units at 5,00 € each, one redeemed: 10,00 € would take back units spent.
      expect((await refund('10,00')).status).to.equal(409);
      expect((await knex()('orders').where('id', order.id).first()).status).to.equal('paid');
      expect((await refund('5,00')).status).to.equal(303);
      await portal.simulator.flushWebhooks();
      const after = await knex()('orders').where('id', order.id).first();
      expect([after.status, Number(after.refunded_cents)]).to.deep.equal(['partially_refunded', 500]);
      expect((await knex()('voucher_batches').where('id', purchase.batch_id).first()).voided_at).to.not.equal(null);
    } finally {
      await saveRefundPolicy(knex(), 'allow_negative');
    }
  });

  it('makes one batch and one posting for a capture PayPal held (pending), then completed', async () => {
    const buyer = await newBuyer();
    const paypalOrderId = await orderBatch(buyer.agent);
    portal.simulator.setFault({ type: 'pending' });
    await buyer.agent.get(pathOf(portal.simulator.approve(paypalOrderId))).expect(303);
    portal.simulator.clearFaults();
    portal.simulator.completePendingCapture(paypalOrderId);
    await portal.simulator.flushWebhooks();
    await portal.checkout.reconcile();
    await buyer.agent.get(`${BUY}/return?token=${paypalOrderId}`);
    const order = await knex()('orders').where('paypal_order_id', paypalOrderId).first();
    expect(order.status).to.equal('paid');
    const purchase = await knex()('voucher_purchases').where('order_id', order.id).first();
    expect(purchase.batch_id).to.not.equal(null);
    expect(await knex()('ledger_transactions').where('idempotency_key', `paypal-capture:${order.paypal_capture_id}`)).to.have.length(1);
  });

  it('voids the batch once and takes every unit back once on a chargeback racing a replacement and a redemption', async () => {
    const buyer = await newBuyer();
    const { order, purchase } = await boughtBatch(buyer.agent, { count: '3' });
    const codes = codesOfCsv((await handOver(buyer.agent, purchase.id, { format: 'csv' })).body as Buffer);
    expect((await redeem(student.agent, codes[0]!)).status).to.equal(200);
    const before = await accountBalance('system:vouchers');
    const [, replacement, redemption] = await Promise.all([
      (async () => {
        portal.simulator.reverseCapture(order.paypal_order_id);
        await portal.simulator.flushWebhooks();
      })(),
      handOver(buyer.agent, purchase.id, { format: 'csv', replace: '1' }),
      redeem(student.agent, codes[1]!),
    ]);
    expect([201, 409]).to.include(replacement.status);
    expect([200, 409]).to.include(redemption.status);
    await portal.checkout.reconcile();
    const after = await knex()('orders').where('id', order.id).first();
    expect(after.status).to.equal('reversed');
    const redeemed = redemption.status === 200 ? 500 : 0;
    expect((await accountBalance('system:vouchers')) - before).to.equal(-1500 - redeemed);
    expect(await knex()('order_events').where({ order_id: order.id, type: 'vouchers_voided' })).to.have.length(1);
  });

  it('lets the retention job purge a cancelled unpaid order of codes with its purchase', async () => {
    const buyer = await newBuyer();
    const paypalOrderId = await orderBatch(buyer.agent);
    await buyer.agent.get(`${BUY}/cancel?token=${paypalOrderId}`).expect(303);
    const order = await knex()('orders').where('paypal_order_id', paypalOrderId).first();
    expect(order.status).to.equal('cancelled');
    const cutoffs = { unpaidOrders: new Date(portal.clock.now().getTime() + 86_400_000) } as unknown as RetentionCutoffs;
    while ((await purgeRetentionBatch(portal.db, 'unpaidOrders', cutoffs, 100)) > 0);
    expect(await knex()('orders').where('id', order.id)).to.have.length(0);
    expect(await knex()('voucher_purchases').where('order_id', order.id)).to.have.length(0);
    expect((await buyer.agent.get(PURCHASES)).status).to.equal(200);
  });

  // Row locks are PostgreSQL's: SQLite runs one writer at a time.
  if (testDialect === 'postgres') it('takes the batch row before the codes’ account, as a redemption does: a refund and a redemption at once never deadlock', async () => {
    const buyer = await newBuyer();
    const { order, purchase } = await boughtBatch(buyer.agent, { count: '2' });
    const codes = codesOfCsv((await handOver(buyer.agent, purchase.id, { format: 'csv' })).body as Buffer);
    const waiting = async () => Number((await knex().raw("select count(*) as n from pg_locks where not granted")).rows[0].n);
    const until = async (condition: () => Promise<boolean>) => {
      for (let tries = 0; tries < 200 && !(await condition()); tries += 1) await new Promise((resolve) => setTimeout(resolve, 20));
    };
    const deliveriesBefore = portal.simulator.deliveries.length;
    const deadlockCount = async () => Number((await knex().raw('select deadlocks from pg_stat_database where datname = current_database()')).rows[0].deadlocks);
    const deadlocksBefore = await deadlockCount();
    // Something (here the test; in life an admin's void or another redemption) holds the batch's row a moment.
    const holder = await knex().transaction();
    await holder('voucher_batches').where('id', purchase.batch_id).forUpdate().first('id');
    const redemption = redeem(student.agent, codes[0]!);
    await until(async () => (await waiting()) >= 1);
    portal.simulator.refundCapture(order.paypal_order_id, '5.00');
    const delivered = portal.simulator.flushWebhooks();
    await until(async () => (await waiting()) >= 2);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    await holder.commit();
    const [redeemed] = await Promise.all([redemption, delivered]);
    // pg_stat_database is updated by the backends a moment later.
    await new Promise((resolve) => setTimeout(resolve, 800));
    const failedDeliveries = portal.simulator.deliveries.slice(deliveriesBefore).filter((delivery) => (delivery.status ?? 500) >= 500);
    const deadlocks = portal.logs.filter((entry) => JSON.stringify(entry).includes('deadlock'));
    // Before the fix both ended well only because db.transaction retries a deadlock victim.
    expect({ redemption: redeemed.status, failedDeliveries: failedDeliveries.length, deadlocksLogged: deadlocks.length, deadlocks: (await deadlockCount()) - deadlocksBefore }).to.deep.equal({ redemption: 200, failedDeliveries: 0, deadlocksLogged: 0, deadlocks: 0 });
  });

  it('lets a buyer back from PayPal after 10 clicks on "Payer": the return has a limit of its own', async () => {
    const buyer = await newBuyer();
    // Nine clicks refused by the form (a name missing: 400) count against the start limit…
    for (let click = 0; click < 9; click += 1) {
      const refused = await buyer.agent.post(BUY).type('form').send({ _csrf: await tokenOf(buyer.agent, PURCHASES), ...batchFields({ name: '' }), terms: String(termsId) });
      expect(refused.status).to.equal(400);
    }
    const paypalOrderId = await orderBatch(buyer.agent);
    // …and the return from PayPal still captures.
    const back = await buyer.agent.get(pathOf(portal.simulator.approve(paypalOrderId)));
    expect(back.status).to.equal(303);
  });

  it('asks staff to refund a batch whose capture PayPal completed after the codes’ last day', async () => {
    const buyer = await newBuyer();
    const paypalOrderId = await orderBatch(buyer.agent, { expiresOn: addDays(today(), 31) });
    portal.simulator.setFault({ type: 'pending' });
    await buyer.agent.get(pathOf(portal.simulator.approve(paypalOrderId))).expect(303);
    portal.simulator.clearFaults();
    portal.clock.advance(40 * 86_400_000);
    portal.simulator.completePendingCapture(paypalOrderId);
    await portal.simulator.flushWebhooks();
    await portal.checkout.reconcile();
    const order = await knex()('orders').where('paypal_order_id', paypalOrderId).first();
    expect(order.status).to.equal('paid');
    const attention = await knex()('order_events').where({ order_id: order.id, type: 'attention' }).pluck('detail');
    expect(attention).to.have.length(1);
    expect(attention[0]).to.include('after the codes’ last day');
    // 40 days on, every session has ended: the admin and the student sign in again for the tests after this one.
    admin = await signedInAgain('revgestion');
    student = { ...student, agent: await signedInAgain('reveleve') };
  });

  it('refuses a handover without the CSRF token, drawing no code', async () => {
    const buyer = await newBuyer();
    const { purchase } = await boughtBatch(buyer.agent);
    const forged = await buyer.agent.post(`${PURCHASES}/${purchase.id}/codes`).type('form').send({ format: 'csv' });
    expect(forged.status).to.equal(403);
    expect(await knex()('voucher_codes').where('batch_id', purchase.batch_id)).to.have.length(0);
  });

  it('makes one batch, one posting and one receipt for a capture seen at once by the return page, the webhook and the reconciler', async () => {
    const buyer = await newBuyer();
    const paypalOrderId = await orderBatch(buyer.agent);
    const returnPath = pathOf(portal.simulator.approve(paypalOrderId));
    await Promise.all([buyer.agent.get(returnPath), buyer.agent.get(returnPath), portal.simulator.flushWebhooks(), portal.checkout.reconcile(), portal.checkout.reconcile()]);
    await portal.simulator.flushWebhooks();
    const order = await knex()('orders').where('paypal_order_id', paypalOrderId).first();
    expect(order.status).to.equal('paid');
    expect(await knex()('voucher_batches').where('name', 'Accueil master').whereIn('id', knex()('voucher_purchases').where('order_id', order.id).select('batch_id'))).to.have.length(1);
    expect(await knex()('ledger_transactions').where('idempotency_key', `paypal-capture:${order.paypal_capture_id}`)).to.have.length(1);
    expect(await knex()('documents').where({ order_id: order.id, kind: 'receipt' })).to.have.length(1);
  });

  afterEach(() => expectLedgerConsistent(portal.db));
});
