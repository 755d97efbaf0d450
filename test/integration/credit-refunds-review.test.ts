import { expect } from 'chai';
import supertest from 'supertest';
import { createApiKeyManagement } from '../../src/services/print-api/api-key-management.js';
import { createOrderAdministration } from '../../src/services/checkout/order-administration.js';
import type { Order } from '../../src/domain/checkout/orders.js';
import type { User } from '../../src/domain/people/users.js';
import { expectLedgerConsistent, testDialect } from '../helpers/database.js';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';
import { balanceOf, publishOffers, restorePayments } from '../helpers/topup.js';
import { askForRefund, latestRefundRequestOf, loseNextRefundAnswer, paidPackOrder, refundPartsOf, signedInPerson } from '../helpers/credit-refunds.js';

type Agent = ReturnType<typeof supertest.agent>;

/**
 * Where a request for unused credit meets the other ways an order is refunded: an admin's ordinary
 * refund of the same order, PayPal dropping the invoice id, a refund PayPal has not answered yet.
 */
describe(`credit refunds on request, against the other refund paths (${testDialect})`, () => {
  let portal: TestPortal;
  let termsId: number;
  let adminUser: User;
  let admin: Agent;
  let apiSecret: string;
  let people = 0;

  before(async () => {
    portal = await createTestPortal({ PAYPAL_TIMEOUT_MS: '500' });
    termsId = await publishOffers(portal);
    adminUser = await portal.addUser('gestion', 'admin-password', { role: 'admin' });
    admin = supertest.agent(portal.app);
    await logIn(admin, 'gestion', 'admin-password');
    apiSecret = (await createApiKeyManagement({ db: portal.db, clock: portal.clock }).create({ name: 'Imprimantes', actor: null })).secret;
  });
  afterEach(() => restorePayments(portal));
  after(() => portal.cleanup());

  const administration = () => createOrderAdministration({ db: portal.db, checkout: portal.checkout, clock: portal.clock });

  const person = () => signedInPerson(portal, `revue${(people += 1)}`);

  const paidOrder = (buyer: User, packId: string) => paidPackOrder(portal, buyer, packId, termsId);

  async function adminCredit(buyer: User, amount: number, key: string) {
    const account = await portal.ledger.userAccount(buyer.id);
    const system = await portal.db.knex('accounts').where('code', 'system:adjustments').first();
    await portal.ledger.post({ idempotencyKey: `review-credit-${buyer.id}-${key}`, kind: 'adjustment', lines: [{ accountId: account.id, amount }, { accountId: Number(system.id), amount: -amount }] });
  }

  const debit = (buyer: User, units: number, reference: string) =>
    supertest(portal.app).post(`/api/v1/accounts/${buyer.username}/debits`).set('Authorization', `Bearer ${apiSecret}`).set('Idempotency-Key', reference).send({ category: 'print', units, reference });

  const ask = askForRefund;
  const requestOf = (buyer: User) => latestRefundRequestOf(portal, buyer);
  const partsOf = (requestId: number) => refundPartsOf(portal, requestId);
  async function adminPost(path: string) {
    let page = await admin.get('/admin/credit-refunds');
    if (page.status !== 200) {
      await logIn(admin, 'gestion', 'admin-password');
      page = await admin.get('/admin/credit-refunds').expect(200);
    }
    return admin.post(path).type('form').send({ _csrf: csrfTokenFrom(page.text) });
  }
  const refundedMoney = async (order: Order) => (await portal.db.knex('payment_refunds').where('order_id', order.id).pluck('amount_cents')).reduce((sum: number, cents: unknown) => sum + Number(cents), 0);

  /** A person whose whole 10,00 € top-up is being refunded, its PayPal refund failed (not made); they keep 10 units of free credit. */
  async function partWaitingForPayPal() {
    const { user, agent } = await person();
    await adminCredit(user, 1000, 'free');
    const order = await paidOrder(user, 'pack-10'); // 10,00 € for 10 units
    await ask(agent);
    const request = await requestOf(user);
    portal.simulator.setFault({ type: 'http500', times: 1, operation: 'refund' });
    await adminPost(`/admin/credit-refunds/${request.id}/approve`);
    const [part] = await partsOf(request.id);
    expect(part).to.include({ status: 'pending', last_outcome: 'not_refunded' });
    expect(await balanceOf(portal, user.id)).to.equal(1000);
    return { user, order, request };
  }
  const ordinaryRefund = async (user: User, order: Order, nonce: string) =>
    administration()
      .refund(adminUser, await portal.checkout.ownOrder(user, { id: order.id }), { amountCents: 1000, reason: 'départ', nonce })
      .then(
        (outcome) => outcome.kind as string,
        (error: unknown) => (error as { code?: string }).code,
      );

  it('refuses an admin’s ordinary refund of the money a part of the same order waits to refund', async () => {
    const { user, order } = await partWaitingForPayPal();
    expect(await ordinaryRefund(user, order, 'review-1a')).to.equal('amount_exceeds_remaining');
    expect(await refundedMoney(order)).to.equal(0);
    expect(await balanceOf(portal, user.id)).to.equal(1000);
  });

  it('never pays by transfer a part whose money PayPal already refunded through an admin’s refund', async () => {
    const { user, order, request } = await partWaitingForPayPal();
    await ordinaryRefund(user, order, 'review-1b');
    // Tried again, the part is refused for certain (the capture is refunded whole); an admin would pay it by transfer.
    await adminPost(`/admin/credit-refunds/${request.id}/retry`);
    const [part] = await partsOf(request.id);
    if (part.status === 'pending' && part.last_outcome === 'refused') {
      expect((await adminPost(`/admin/credit-refunds/${request.id}/parts/${part.id}/transfer`)).status).to.equal(409);
      expect((await adminPost(`/admin/credit-refunds/${request.id}/parts/${part.id}/transferred`)).status).to.equal(409);
    }
    await portal.simulator.flushWebhooks();
    expect(await refundedMoney(order)).to.be.at.most(order.priceCents);
    await expectLedgerConsistent(portal.db);
  });

  it('never pays by transfer a part of a payment the buyer’s bank reversed (chargeback)', async () => {
    const { order, request } = await partWaitingForPayPal();
    portal.simulator.reverseCapture(order.paypalOrderId!);
    await portal.simulator.flushWebhooks();
    await adminPost(`/admin/credit-refunds/${request.id}/retry`);
    const [part] = await partsOf(request.id);
    expect(part).to.include({ status: 'pending', last_outcome: 'refused' });
    expect((await adminPost(`/admin/credit-refunds/${request.id}/parts/${part.id}/transfer`)).status).to.equal(409);
    expect(await partsOf(request.id)).to.have.nested.property('[0].method', 'paypal');
  });

  it('takes the units of a part waiting for PayPal back once when the payment is reversed (chargeback)', async () => {
    const { user, order } = await partWaitingForPayPal();
    portal.simulator.reverseCapture(order.paypalOrderId!);
    await portal.simulator.flushWebhooks();
    // The request took the top-up's 10 units already; the chargeback has none left to take (the 10 free units stay).
    expect(await balanceOf(portal, user.id)).to.equal(1000);
    await expectLedgerConsistent(portal.db);
  });

  it('never refunds again through PayPal an order whose part was paid by transfer', async () => {
    const { user } = await person();
    const order = await paidOrder(user, 'pack-10');
    // Past PayPal's window the part is a transfer (a part PayPal refused for certain becomes one too).
    portal.clock.advance(181 * 86_400_000);
    const agent = supertest.agent(portal.app);
    await logIn(agent, user.username, 'student-password');
    await ask(agent);
    const request = await requestOf(user);
    await adminPost(`/admin/credit-refunds/${request.id}/approve`);
    const [part] = await partsOf(request.id);
    expect(part).to.include({ method: 'transfer', status: 'awaiting_transfer' });
    expect((await adminPost(`/admin/credit-refunds/${request.id}/parts/${part.id}/transferred`)).status).to.equal(303);
    expect(await refundedMoney(order)).to.equal(1000);

    const ordinary = await administration()
      .refund(adminUser, await portal.checkout.ownOrder(user, { id: order.id }), { amountCents: 1000, reason: 'encore', nonce: 'review-2' })
      .then(
        (outcome) => outcome.kind,
        (error: unknown) => (error as { code?: string }).code,
      );
    expect(ordinary).to.equal('amount_exceeds_remaining');
    expect(await refundedMoney(order)).to.equal(1000);
    await expectLedgerConsistent(portal.db);
  });

  it('takes back the units of an admin refund PayPal stripped of its invoice id while a part of the same amount waits', async () => {
    const { user, agent } = await person();
    const order = await paidOrder(user, 'pack-20'); // 20,00 € for 20 + 2 bonus units
    expect((await debit(user, 11, 'review-job')).status).to.equal(201);
    await ask(agent);
    const request = await requestOf(user);
    portal.simulator.setFault({ type: 'refundInvoiceIgnored' }, { orderId: order.paypalOrderId! });
    portal.simulator.setFault({ type: 'http500', times: 1, operation: 'refund' });
    await adminPost(`/admin/credit-refunds/${request.id}/approve`);
    const [part] = await partsOf(request.id);
    // Half the order: 10,00 € for 11 units (1 of them bonus).
    expect([Number(part.amount_cents), Number(part.units), part.status]).to.deep.equal([1000, 1100, 'pending']);
    expect(await balanceOf(portal, user.id)).to.equal(0);

    // The person is given 11 units; an admin refunds the other half of the order the ordinary way.
    await adminCredit(user, 1100, 'gift');
    const ordinary = await administration().refund(adminUser, await portal.checkout.ownOrder(user, { id: order.id }), { amountCents: 1000, reason: 'geste', nonce: 'review-3' });
    expect(ordinary.kind).to.equal('refunded');
    // The part is tried again; PayPal's webhooks are late (or were handled before the part was marked).
    portal.simulator.setWebhookUrl('http://127.0.0.1:9/webhooks/paypal');
    await adminPost(`/admin/credit-refunds/${request.id}/retry`);
    expect(await partsOf(request.id)).to.have.nested.property('[0].status', 'refunded');
    // Whatever refund is taken for the part, every cent back at PayPal has its units taken back:
    // 22 units for 20,00 €; the person had 22 + 11 (the gift) and spent 11.
    const consistent = async () => {
      const takenBack = 2200 + 1100 - 1100 - (await balanceOf(portal, user.id));
      expect(takenBack).to.equal(((await refundedMoney(order)) * 2200) / 2000);
    };
    await consistent();
    // Later sightings of the refunds change nothing.
    portal.simulator.setWebhookUrl(`${portal.baseUrl}/webhooks/paypal`);
    await portal.simulator.flushWebhooks();
    await portal.checkout.checkNow(await portal.checkout.ownOrder(user, { id: order.id }));
    await consistent();
    await expectLedgerConsistent(portal.db);
  });

  it('does not send a part to PayPal again once its refund was seen (PayPal forgets request ids after hours)', async () => {
    const { user, agent } = await person();
    const order = await paidOrder(user, 'pack-10');
    await ask(agent);
    const request = await requestOf(user);
    // PayPal makes the refund, its answer is lost and the look-up fails: unknown.
    loseNextRefundAnswer(portal);
    await adminPost(`/admin/credit-refunds/${request.id}/approve`);
    expect(await partsOf(request.id)).to.have.nested.property('[0].last_outcome', 'unknown');
    portal.simulator.clearFaults();
    // PayPal's late answer leaves (until then, the same id is "in progress" there).
    await new Promise((resolve) => setTimeout(resolve, 1600));
    // PayPal's webhook (here: a look-up) records the refund.
    await portal.checkout.checkNow(await portal.checkout.ownOrder(user, { id: order.id }));
    expect(await refundedMoney(order)).to.equal(1000);
    const calls = portal.simulator.requests.filter((sent) => sent.method === 'POST' && sent.path.endsWith('/refund')).length;
    await adminPost(`/admin/credit-refunds/${request.id}/retry`);
    const [afterRetry] = await partsOf(request.id);
    if (afterRetry.status === 'pending' && afterRetry.last_outcome === 'refused') {
      // PayPal "refused" it (the order is refunded whole already): an admin may pay it by transfer — a second time.
      await adminPost(`/admin/credit-refunds/${request.id}/parts/${afterRetry.id}/transfer`);
      await adminPost(`/admin/credit-refunds/${request.id}/parts/${afterRetry.id}/transferred`);
      expect(await refundedMoney(order), 'paid again by transfer').to.equal(1000);
    }
    expect(portal.simulator.requests.filter((sent) => sent.method === 'POST' && sent.path.endsWith('/refund')).length).to.equal(calls);
    expect(await partsOf(request.id)).to.have.nested.property('[0].status', 'refunded');
    expect(await requestOf(user)).to.include({ status: 'completed' });
    expect(await balanceOf(portal, user.id)).to.equal(0);
  });

  it('does not refund through a request the money of an admin refund PayPal has not answered yet', async () => {
    const { user, agent } = await person();
    const older = await paidOrder(user, 'pack-10');
    const newer = await paidOrder(user, 'pack-10');
    // An admin refunds the newer top-up; PayPal makes it, its answer is lost and the look-up fails.
    loseNextRefundAnswer(portal);
    const ordinary = await administration().refund(adminUser, newer, { amountCents: 1000, reason: 'erreur', nonce: 'review-4' });
    expect(ordinary.kind).to.equal('unknown');
    portal.simulator.clearFaults();

    // The person asks for the rest: the newer top-up's money is already on its way back, so the older one pays.
    await ask(agent);
    const request = await requestOf(user);
    await adminPost(`/admin/credit-refunds/${request.id}/approve`);
    const parts = await partsOf(request.id);
    expect(parts.map((part) => Number(part.order_id))).to.deep.equal([older.id]);
    portal.simulator.setWebhookUrl(`${portal.baseUrl}/webhooks/paypal`);
    await portal.checkout.checkNow(await portal.checkout.ownOrder(user, { id: newer.id }));
    expect((await refundedMoney(newer)) + (await refundedMoney(older))).to.equal(2000);
    expect(await refundedMoney(newer)).to.equal(1000);
    await expectLedgerConsistent(portal.db);
  });
});
