import { expect } from 'chai';
import supertest from 'supertest';
import { createApiKeyManagement } from '../../src/services/print-api/api-key-management.js';
import type { Order } from '../../src/domain/checkout/orders.js';
import type { User } from '../../src/domain/people/users.js';
import { insertCreditRefundRequest } from '../../src/db/credit-refunds/credit-refund-repository.js';
import { isUniqueViolation } from '../../src/db/database.js';
import { expectDocumentsConsistent, expectLedgerConsistent, testDialect } from '../helpers/database.js';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';
import { balanceOf, publishOffers, restorePayments } from '../helpers/topup.js';
import { askForRefund, latestRefundRequestOf, loseNextRefundAnswer, paidPackOrder, refundPartsOf, signedInPerson } from '../helpers/credit-refunds.js';

type Agent = ReturnType<typeof supertest.agent>;
const DAY = 86_400_000;
const plain = (text: string) => text.replace(/[\u202f\u00a0]/g, ' ').replaceAll('&#39;', "'");

describe(`credit refunds on request (${testDialect})`, () => {
  let portal: TestPortal;
  let termsId: number;
  let admin: Agent;
  let apiSecret: string;
  let people = 0;

  before(async () => {
    portal = await createTestPortal({ PAYPAL_TIMEOUT_MS: '500' });
    termsId = await publishOffers(portal);
    await portal.addUser('gestion', 'admin-password', { role: 'admin' });
    admin = supertest.agent(portal.app);
    await logIn(admin, 'gestion', 'admin-password');
    apiSecret = (await createApiKeyManagement({ db: portal.db, clock: portal.clock }).create({ name: 'Imprimantes', actor: null })).secret;
  });
  afterEach(() => restorePayments(portal));
  after(() => portal.cleanup());

  const person = () => signedInPerson(portal, `etudiant${(people += 1)}`);

  const paidOrder = (buyer: User, packId: string) => paidPackOrder(portal, buyer, packId, termsId);

  /** Units given by an admin (not refundable). */
  async function adminCredit(buyer: User, amount: number) {
    const account = await portal.ledger.userAccount(buyer.id);
    const system = await portal.db.knex('accounts').where('code', 'system:adjustments').first();
    await portal.ledger.post({ idempotencyKey: `test-credit-${buyer.id}-${amount}`, kind: 'adjustment', lines: [{ accountId: account.id, amount }, { accountId: Number(system.id), amount: -amount }] });
  }

  const debit = (buyer: User, units: number, reference: string) =>
    supertest(portal.app).post(`/api/v1/accounts/${buyer.username}/debits`).set('Authorization', `Bearer ${apiSecret}`).set('Idempotency-Key', reference).send({ category: 'print', units, reference });

  const ask = askForRefund;
  const requestOf = (buyer: User) => latestRefundRequestOf(portal, buyer);
  const partsOf = (requestId: number) => refundPartsOf(portal, requestId);
  /** An admin page, signing the admin in again when the clock moved past their session. */
  async function adminPage(path: string) {
    let page = await admin.get(path);
    if (page.status !== 200) {
      await logIn(admin, 'gestion', 'admin-password');
      page = await admin.get(path).expect(200);
    }
    return page;
  }
  async function adminPost(path: string, fields: Record<string, string> = {}) {
    const page = await adminPage('/admin/credit-refunds');
    return admin.post(path).type('form').send({ _csrf: csrfTokenFrom(page.text), ...fields });
  }
  const refundCalls = (order: Order) => portal.simulator.requests.filter((request) => request.method === 'POST' && request.path === `/v2/payments/captures/${order.paypalCaptureId}/refund`).length;
  const takeBacks = (requestId: number) => portal.db.knex('ledger_transactions').where('idempotency_key', `credit-refund:${requestId}`);
  const notices = (requestId: number) => portal.db.knex('mail_outbox').where('send_key', 'like', `credit-refund:${requestId}:%`).orderBy('id').pluck('notice_kind');

  /** A person's request approved while PayPal's answer to its refund is lost: the part is pending, its outcome unknown. */
  const approvedWithLostAnswer = async () => {
    const { user, agent } = await person();
    const order = await paidOrder(user, 'pack-10');
    await ask(agent);
    const request = await requestOf(user);
    loseNextRefundAnswer(portal);
    await adminPost(`/admin/credit-refunds/${request.id}/approve`);
    return { user, order, request };
  };
  const refundsAtPayPal = (order: Order) => (portal.simulator.order(order.paypalOrderId!) as { purchase_units: Array<{ payments: { refunds?: unknown[] } }> }).purchase_units[0]!.payments.refunds ?? [];

  it('refunds across several captures, newest first, with some units spent and some bonus, taking the units back once', async () => {
    const { user, agent } = await person();
    await adminCredit(user, 500);
    const older = await paidOrder(user, 'pack-20'); // 20,00 € for 20 + 2 bonus units
    const newer = await paidOrder(user, 'pack-10'); // 10,00 € for 10 units
    expect((await debit(user, 15, 'job-1')).status).to.equal(201);
    expect(await balanceOf(portal, user.id)).to.equal(2200);

    const page = plain((await agent.get('/account/refund').expect(200)).text);
    expect(page).to.include('20,90 €').and.include(newer.number).and.include(older.number).and.include('bonus');
    expect((await ask(agent)).status).to.equal(303);
    const request = await requestOf(user);
    expect(request).to.include({ status: 'requested' });
    expect(Number(request.estimated_cents)).to.equal(2090);

    const approved = await adminPost(`/admin/credit-refunds/${request.id}/approve`);
    expect(approved.status).to.equal(303);
    await portal.simulator.flushWebhooks();
    // Newest first: the 10,00 € top-up whole, then 12 of the 22 units left of the older one at 20,00 € for 22 units.
    const parts = await partsOf(request.id);
    expect(parts.map((part) => [Number(part.order_id), Number(part.amount_cents), Number(part.units), part.status])).to.deep.equal([
      [newer.id, 1000, 1000, 'refunded'],
      [older.id, 1090, 1199, 'refunded'],
    ]);
    expect(await balanceOf(portal, user.id)).to.equal(1);
    const [takeBack] = await takeBacks(request.id);
    const refunds = await portal.db.knex('payment_refunds').whereIn('order_id', [newer.id, older.id]);
    expect(refunds.map((refund) => Number(refund.ledger_transaction_id))).to.deep.equal([takeBack.id, takeBack.id].map(Number));
    // Checkout took nothing back for these refunds: the request's own posting did.
    expect(await portal.db.knex('ledger_transactions').where('idempotency_key', 'like', 'paypal-refund%')).to.have.length(0);
    expect(await portal.db.knex('documents').where('kind', 'credit_note').whereIn('order_id', [newer.id, older.id])).to.have.length(2);
    expect(await requestOf(user)).to.include({ status: 'completed', open_user_id: null });
    expect(await notices(request.id)).to.deep.equal(['credit_refund.requested', 'credit_refund.approved', 'credit_refund.completed']);
    const audits = await portal.db.knex('audit_log').where('target', `credit-refund:${request.id}`).orderBy('id').pluck('action');
    expect(audits).to.deep.equal(['credit_refund.request', 'credit_refund.approve', 'credit_refund.paypal_refund', 'credit_refund.paypal_refund']);

    // PayPal's look-ups and webhooks later change nothing.
    await portal.checkout.checkNow(await portal.checkout.ownOrder(user, { id: older.id }));
    await portal.checkout.reconcile();
    expect(await balanceOf(portal, user.id)).to.equal(1);
    expect(refundCalls(newer) + refundCalls(older)).to.equal(2);
    await expectLedgerConsistent(portal.db);
  });

  it('approves once when approved twice at the same time (a double click, two admins)', async () => {
    const { user, agent } = await person();
    const order = await paidOrder(user, 'pack-10');
    await ask(agent);
    const request = await requestOf(user);
    const page = await adminPage(`/admin/credit-refunds/${request.id}`);
    const answers = await Promise.all([1, 2, 3].map(() => admin.post(`/admin/credit-refunds/${request.id}/approve`).type('form').send({ _csrf: csrfTokenFrom(page.text) })));
    expect(answers.map((answer) => answer.status)).to.deep.equal([303, 303, 303]);
    expect(answers.filter((answer) => String(answer.headers.location).endsWith('notice=approved'))).to.have.length(1);
    await portal.simulator.flushWebhooks();
    expect(await takeBacks(request.id)).to.have.length(1);
    expect(refundCalls(order)).to.equal(1);
    expect(await balanceOf(portal, user.id)).to.equal(0);
    expect((await portal.checkout.ownOrder(user, { id: order.id })).status).to.equal('refunded');
    // The person's history words the take-back in their language, not as the ledger stores it.
    const history = plain((await agent.get('/account/history').expect(200)).text);
    expect(history).to.include(`Remboursement du crédit non utilisé (demande n° ${request.id})`).and.not.include(`credit refund ${request.id}`);
  });

  it('never refunds units spent by a print debit racing the approval, and never below zero', async () => {
    for (let round = 0; round < 4; round += 1) {
      const { user, agent } = await person();
      await paidOrder(user, 'pack-10');
      await ask(agent);
      const request = await requestOf(user);
      const page = await adminPage(`/admin/credit-refunds/${request.id}`);
      const approve = () => admin.post(`/admin/credit-refunds/${request.id}/approve`).type('form').send({ _csrf: csrfTokenFrom(page.text) });
      // The first round is the debit landing between the request and the approval; the others race them.
      let approved;
      let debited;
      if (round === 0) {
        debited = await debit(user, 4, `race-${round}`);
        approved = await approve();
      } else {
        [approved, debited] = await Promise.all([approve(), debit(user, 4, `race-${round}`)]);
      }
      expect(approved.status).to.equal(303);
      await portal.simulator.flushWebhooks();
      const after = await requestOf(user);
      expect(after.status).to.equal('completed');
      if (round === 0) expect(Number(after.refunded_units)).to.equal(600);
      const balance = await balanceOf(portal, user.id);
      const spent = debited.status === 201 ? 400 : 0;
      expect(debited.status, debited.text).to.be.oneOf([201, 402]);
      expect(balance).to.be.at.least(0);
      // Every unit is either spent, taken back, or still there; the money refunded is that of the units taken back.
      expect(spent + Number(after.refunded_units) + balance).to.equal(1000);
      // 10,00 € for 10 units: a cent a hundredth.
      expect(Number(after.refunded_cents)).to.equal(Number(after.refunded_units));
      const parts = await partsOf(request.id);
      expect(parts.reduce((sum, part) => sum + Number(part.units), 0)).to.equal(Number(after.refunded_units));
    }
    await expectLedgerConsistent(portal.db);
  });

  it('leaves a PayPal failure pending and retries it with the same request id, without a second refund', async () => {
    const { user, agent } = await person();
    const older = await paidOrder(user, 'pack-5');
    const newer = await paidOrder(user, 'pack-10');
    await ask(agent);
    const request = await requestOf(user);
    // The first refund (the newer top-up) is answered 500 without being made.
    portal.simulator.setFault({ type: 'http500', times: 1, operation: 'refund' });
    await adminPost(`/admin/credit-refunds/${request.id}/approve`);
    await portal.simulator.flushWebhooks();
    let parts = await partsOf(request.id);
    expect(parts.map((part) => [Number(part.order_id), part.status, part.last_outcome])).to.deep.equal([
      [newer.id, 'pending', 'not_refunded'],
      [older.id, 'refunded', null],
    ]);
    expect(await requestOf(user)).to.include({ status: 'approved' });
    const balanceAfterApproval = await balanceOf(portal, user.id);
    expect(balanceAfterApproval).to.equal(0);
    expect(plain((await adminPage(`/admin/credit-refunds/${request.id}`)).text)).to.include('Pas remboursé par PayPal');

    // An unclear answer on the retry (made, answer lost): looked up, found by its request id.
    portal.simulator.setFault({ type: 'http500', times: 1, operation: 'refund', afterEffect: true });
    expect((await adminPost(`/admin/credit-refunds/${request.id}/retry`)).status).to.equal(303);
    await portal.simulator.flushWebhooks();
    parts = await partsOf(request.id);
    expect(parts.map((part) => part.status)).to.deep.equal(['refunded', 'refunded']);
    await adminPost(`/admin/credit-refunds/${request.id}/retry`);
    expect(refundsAtPayPal(newer)).to.have.length(1);
    expect(await balanceOf(portal, user.id)).to.equal(balanceAfterApproval);
    expect(await requestOf(user)).to.include({ status: 'completed' });
  });

  it('keeps a refund whose outcome is unknown pending, never payable by transfer, and gets PayPal’s refund on the retry', async () => {
    const { user, order, request } = await approvedWithLostAnswer();
    const [part] = await partsOf(request.id);
    expect(part).to.include({ status: 'pending', last_outcome: 'unknown' });
    expect((await adminPost(`/admin/credit-refunds/${request.id}/parts/${part.id}/transfer`)).status).to.equal(409);
    expect(await partsOf(request.id)).to.have.nested.property('[0].method', 'paypal');
    portal.simulator.setWebhookUrl(`${portal.baseUrl}/webhooks/paypal`);
    await adminPost(`/admin/credit-refunds/${request.id}/retry`);
    expect(await partsOf(request.id)).to.have.nested.property('[0].status', 'refunded');
    expect(refundsAtPayPal(order)).to.have.length(1);
    expect(await balanceOf(portal, user.id)).to.equal(0);
    expect(await requestOf(user)).to.include({ status: 'completed' });
  });

  it('asks PayPal again by itself for a part whose answer was lost, on a growing delay, and refunds it once', async () => {
    const { user, order, request } = await approvedWithLostAnswer();
    expect(await partsOf(request.id)).to.have.nested.property('[0].last_outcome', 'unknown');
    portal.simulator.setWebhookUrl(`${portal.baseUrl}/webhooks/paypal`);
    // Not yet due: the sweep leaves it.
    portal.clock.advance(5 * 60_000);
    expect(await portal.creditRefunds.retryWaitingParts()).to.deep.equal({ asked: 0, pending: 0 });
    portal.clock.advance(5 * 60_000);
    expect(await portal.creditRefunds.retryWaitingParts()).to.deep.equal({ asked: 1, pending: 0 });
    expect(await partsOf(request.id)).to.have.nested.property('[0].status', 'refunded');
    expect(await requestOf(user)).to.include({ status: 'completed' });
    expect(refundsAtPayPal(order)).to.have.length(1);
    expect(await balanceOf(portal, user.id)).to.equal(0);
    portal.clock.advance(3600_000);
    expect(await portal.creditRefunds.retryWaitingParts()).to.deep.equal({ asked: 0, pending: 0 });
  });

  it('stops asking PayPal by itself after five attempts, leaving the part to an admin', async () => {
    const { user, agent } = await person();
    await paidOrder(user, 'pack-10');
    await ask(agent);
    const request = await requestOf(user);
    // PayPal answers nothing but errors: no refund is made, and none can be looked up.
    portal.simulator.setFault({ type: 'http500', times: 1000, operation: 'any' });
    await adminPost(`/admin/credit-refunds/${request.id}/approve`);
    let asked = 0;
    for (let minutes = 0; minutes < 6 * 60; minutes += 10) {
      portal.clock.advance(10 * 60_000);
      asked += (await portal.creditRefunds.retryWaitingParts()).asked;
    }
    const [part] = await partsOf(request.id);
    expect([part.status, part.attempts, asked]).to.deep.equal(['pending', 5, 4]);
    portal.simulator.clearFaults();
  });

  it('takes nothing back a second time when PayPal replaces the refund’s invoice id with the order’s', async () => {
    const { user, agent } = await person();
    const order = await paidOrder(user, 'pack-20');
    await ask(agent);
    const request = await requestOf(user);
    portal.simulator.setFault({ type: 'refundInvoiceIgnored' }, { orderId: order.paypalOrderId! });
    await adminPost(`/admin/credit-refunds/${request.id}/approve`);
    await portal.simulator.flushWebhooks();
    await portal.checkout.reconcile();
    expect(await partsOf(request.id)).to.have.nested.property('[0].status', 'refunded');
    expect(await balanceOf(portal, user.id)).to.equal(0);
    expect(await portal.db.knex('ledger_transactions').where('description', `${order.number} refund`)).to.have.length(0);
    const [recorded] = await portal.db.knex('payment_refunds').where('order_id', order.id);
    expect(Number(recorded.ledger_transaction_id)).to.equal(Number((await requestOf(user)).take_back_transaction_id));
  });

  it('lists a capture older than PayPal’s window for a transfer an admin records', async () => {
    const { user } = await person();
    const order = await paidOrder(user, 'pack-10');
    portal.clock.advance(181 * DAY);
    const agent = supertest.agent(portal.app);
    await logIn(agent, user.username, 'student-password');
    expect(plain((await agent.get('/account/refund').expect(200)).text)).to.include('Virement bancaire');
    await ask(agent);
    const request = await requestOf(user);
    await adminPost(`/admin/credit-refunds/${request.id}/approve`);
    const [part] = await partsOf(request.id);
    expect(part).to.include({ method: 'transfer', status: 'awaiting_transfer' });
    expect(refundCalls(order)).to.equal(0);
    expect(await requestOf(user)).to.include({ status: 'approved' });
    expect((await adminPost(`/admin/credit-refunds/${request.id}/parts/${part.id}/transferred`)).status).to.equal(303);
    expect((await adminPost(`/admin/credit-refunds/${request.id}/parts/${part.id}/transferred`)).status).to.equal(409);
    expect(await requestOf(user)).to.include({ status: 'completed' });
    expect(await portal.db.knex('audit_log').where({ target: `credit-refund:${request.id}`, action: 'credit_refund.transferred' })).to.have.length(1);
    // Recorded as a refund of the order, with the request's take-back and its credit note, once.
    const [recorded] = await portal.db.knex('payment_refunds').where('order_id', order.id);
    expect(recorded).to.include({ refund_id: `transfer-${part.id}` });
    expect(Number(recorded.ledger_transaction_id)).to.equal(Number((await requestOf(user)).take_back_transaction_id));
    expect(await portal.db.knex('documents').where({ kind: 'credit_note', refund_id: recorded.refund_id })).to.have.length(1);
    await expectDocumentsConsistent(portal.db);
    expect(plain((await agent.get('/account/refund').expect(200)).text)).to.include('Rien n\'est remboursable');
  });

  it('refuses with a reason, mailed; without one nothing changes', async () => {
    const { user, agent } = await person();
    await paidOrder(user, 'pack-10');
    await ask(agent);
    const request = await requestOf(user);
    expect((await adminPost(`/admin/credit-refunds/${request.id}/refuse`, { reason: '  ' })).status).to.equal(400);
    expect(await requestOf(user)).to.include({ status: 'requested' });
    expect((await adminPost(`/admin/credit-refunds/${request.id}/refuse`, { reason: 'Compte partagé' })).status).to.equal(303);
    expect(await requestOf(user)).to.include({ status: 'refused', refusal_reason: 'Compte partagé', open_user_id: null });
    expect(await balanceOf(portal, user.id)).to.equal(1000);
    expect(await notices(request.id)).to.deep.equal(['credit_refund.requested', 'credit_refund.refused']);
    // Refused is final: approving it afterwards changes nothing.
    expect((await adminPost(`/admin/credit-refunds/${request.id}/approve`)).headers.location).to.match(/notice=alreadyDecided$/);
    expect(await balanceOf(portal, user.id)).to.equal(1000);
    // The person may ask again.
    expect((await ask(agent)).status).to.equal(303);
  });

  it('approves automatically up to the amount set by an admin, and only up to it', async () => {
    expect((await adminPost('/admin/credit-refunds/settings', { autoApprove: 'beaucoup' })).status).to.equal(400);
    expect((await adminPost('/admin/credit-refunds/settings', { autoApprove: '10,00' })).status).to.equal(303);
    try {
      const small = await person();
      await paidOrder(small.user, 'pack-10');
      expect((await ask(small.agent)).headers.location).to.equal('/account/refund?notice=approved');
      expect(await requestOf(small.user)).to.include({ status: 'completed', decided_by: null });
      const [audit] = await portal.db.knex('audit_log').where('action', 'credit_refund.approve').orderBy('id', 'desc');
      expect(audit.actor_username).to.equal('system:credit-refunds');

      const large = await person();
      await paidOrder(large.user, 'pack-20');
      expect((await ask(large.agent)).headers.location).to.equal('/account/refund?notice=requested');
      expect(await requestOf(large.user)).to.include({ status: 'requested' });
    } finally {
      await adminPost('/admin/credit-refunds/settings', { autoApprove: '0' });
    }
  });

  it('closes the account when asked: disabled, signed out', async () => {
    const { user, agent } = await person();
    await paidOrder(user, 'pack-10');
    await ask(agent, { closeAccount: 'yes' });
    const request = await requestOf(user);
    await adminPost(`/admin/credit-refunds/${request.id}/approve`);
    const closed = await portal.db.knex('users').where('id', user.id).first();
    expect(closed.closed_at).to.not.equal(null);
    expect(Boolean(closed.disabled)).to.equal(true);
    const after = await agent.get('/account/refund');
    expect(after.status).to.equal(303);
    expect(after.headers.location).to.match(/^\/login/);
  });

  it('closing on approval cancels the orders not approved yet, and a payment captured after it asks staff to refund it', async () => {
    const { user, agent } = await person();
    await paidOrder(user, 'pack-10');
    // One order sent to PayPal and left there, one approved whose capture PayPal holds (pending).
    const waiting = await portal.checkout.placeOrder(user, { packId: 'pack-5' }, termsId, 'fr');
    await portal.checkout.startOrderPayment(waiting, 'fr');
    const beingPaid = await portal.checkout.placeOrder(user, { packId: 'pack-20' }, termsId, 'fr');
    await portal.checkout.startOrderPayment(beingPaid, 'fr');
    const paypalOrderId = (await portal.checkout.ownOrder(user, { id: beingPaid.id })).paypalOrderId!;
    portal.simulator.setFault({ type: 'pending' });
    portal.simulator.approve(paypalOrderId);
    await portal.checkout.completeReturn(user, paypalOrderId);
    portal.simulator.clearFaults();
    await ask(agent, { closeAccount: 'yes' });
    await adminPost(`/admin/credit-refunds/${(await requestOf(user)).id}/approve`);
    const statusOf = async (id: number) => (await portal.db.knex('orders').where('id', id).first('status')).status;
    expect([await statusOf(waiting.id), await statusOf(beingPaid.id)]).to.deep.equal(['cancelled', 'capture_pending']);
    portal.simulator.completePendingCapture(paypalOrderId);
    await portal.simulator.flushWebhooks();
    await portal.checkout.reconcile();
    expect(await statusOf(beingPaid.id)).to.equal('paid');
    const attention = await portal.db.knex('order_events').where({ order_id: beingPaid.id, type: 'attention' }).pluck('detail');
    expect(attention).to.deep.equal(['the person’s account is closed: refund this payment']);
  });

  it('keeps one open request per person, in the database too, and refuses when nothing is refundable', async () => {
    const { user, agent } = await person();
    const nothing = await ask(agent);
    expect(nothing.status).to.equal(409);
    expect(plain(nothing.text)).to.include('Il n\'y a rien à rembourser');
    await paidOrder(user, 'pack-10');
    // Sent twice at once (a double click): one request.
    const page = await agent.get('/account/refund').expect(200);
    const both = await Promise.all([1, 2].map(() => agent.post('/account/refund').type('form').send({ _csrf: csrfTokenFrom(page.text) })));
    expect(both.map((answer) => answer.status).sort()).to.deep.equal([303, 409]);
    expect((await ask(agent)).status).to.equal(409);
    const error = await portal.db
      .transaction((trx) => insertCreditRefundRequest(trx, { userId: user.id, closeAccount: false, estimatedCents: 1, currency: 'EUR' }, portal.clock.now()))
      .catch((caught: unknown) => caught);
    expect(isUniqueViolation(error)).to.equal(true);
    expect(await portal.db.knex('credit_refund_requests').where('user_id', user.id)).to.have.length(1);
  });

  it('limits the requests a person may send in an hour', async () => {
    const { agent } = await person();
    const page = await agent.get('/account/refund').expect(200);
    const statuses = [];
    for (let sent = 0; sent < 6; sent += 1) statuses.push((await agent.post('/account/refund').type('form').send({ _csrf: csrfTokenFrom(page.text) })).status);
    expect(statuses).to.deep.equal([409, 409, 409, 409, 409, 429]);
  });

  it('refuses a request without its CSRF token, and the admin pages to people', async () => {
    const { user, agent } = await person();
    await paidOrder(user, 'pack-10');
    expect((await agent.post('/account/refund').type('form').send({})).status).to.equal(403);
    expect(await requestOf(user)).to.equal(undefined);
    expect((await agent.get('/admin/credit-refunds')).status).to.equal(403);
  });
});
