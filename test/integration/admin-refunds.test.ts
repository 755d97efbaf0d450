import { expect } from 'chai';
import supertest from 'supertest';
import type { OfferChoice } from '../../src/services/checkout/checkout.js';
import type { Order } from '../../src/domain/checkout/orders.js';
import type { User } from '../../src/domain/people/users.js';
import { saveRefundPolicy } from '../../src/db/checkout/refund-policy-repository.js';
import { closeRefundRequest, savePendingRefundRequest, unitsHeldByPendingRefunds } from '../../src/db/checkout/order-admin-repository.js';
import { testDialect } from '../helpers/database.js';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';
import { balanceOf, publishOffers, restorePayments } from '../helpers/topup.js';

type Agent = ReturnType<typeof supertest.agent>;

/** French Intl output uses narrow no-break spaces and EJS escapes apostrophes; compare with plain text. */
const plain = (text: string) => text.replace(/[\u202f\u00a0]/g, ' ').replaceAll('&#39;', "'");
const nonceFrom = (html: string) => /name="nonce" value="([^"]+)"/.exec(html)![1]!;
const amountFrom = (html: string) => /name="amount"[^>]* value="([^"]*)"/.exec(html)![1]!;

describe(`administration: refunds (${testDialect})`, () => {
  let portal: TestPortal;
  let termsId: number;
  let buyer: User;
  let agent: Agent;

  before(async () => {
    portal = await createTestPortal({ PAYPAL_TIMEOUT_MS: '500' });
    termsId = await publishOffers(portal);
    await portal.addUser('gestion', 'admin-password', { role: 'admin' });
    buyer = await portal.addUser('camille', 'camille-password');
    agent = supertest.agent(portal.app);
    await logIn(agent, 'gestion', 'admin-password');
  });
  afterEach(() => restorePayments(portal));
  after(() => portal.cleanup());

  /** A paid order of 20,00 € for 22 units (20 + 2 bonus), unless told otherwise. */
  async function paidOrder(choice: OfferChoice = { packId: 'pack-20' }): Promise<Order> {
    const placed = await portal.checkout.placeOrder(buyer, choice, termsId, 'fr');
    await portal.checkout.startOrderPayment(placed, 'fr');
    const sent = await portal.checkout.ownOrder(buyer, { id: placed.id });
    portal.simulator.approve(sent.paypalOrderId!);
    await portal.checkout.completeReturn(buyer, sent.paypalOrderId);
    await portal.simulator.flushWebhooks();
    return current(sent);
  }
  const current = (order: Order) => portal.checkout.ownOrder(buyer, { id: order.id });
  const orderPage = async (order: Order, language = 'fr') => (await agent.get(`/admin/orders/${order.number}`).set('Accept-Language', language).expect(200)).text;

  /** Sends the refund form of `page` with these fields (by default the page's own amount, nonce and a reason). */
  async function refund(order: Order, page: string, fields: Record<string, string | undefined> = {}, language = 'fr') {
    const form = { _csrf: csrfTokenFrom(page), amount: amountFrom(page), nonce: nonceFrom(page), reason: 'Erreur de montant', ...fields };
    const sent = Object.fromEntries(Object.entries(form).filter((entry): entry is [string, string] => entry[1] !== undefined));
    return agent.post(`/admin/orders/${order.number}/refund`).set('Accept-Language', language).type('form').send(sent);
  }

  /** What PayPal holds for the order: its capture's status and refunds. */
  function atPayPal(order: Order) {
    const paypal = portal.simulator.order(order.paypalOrderId!) as { purchase_units: Array<{ payments: { captures: Array<{ status: string }>; refunds?: Array<{ id: string; amount: { value: string } }> } }> };
    const payments = paypal.purchase_units[0]!.payments;
    return { captureStatus: payments.captures[0]!.status, refunds: (payments.refunds ?? []).map((refund) => refund.amount.value) };
  }
  const refundCalls = (order: Order) => portal.simulator.requests.filter((request) => request.method === 'POST' && request.path === `/v2/payments/captures/${order.paypalCaptureId}/refund`).length;
  const refundAudits = (order: Order) => portal.db.knex('audit_log').where({ action: 'order.refund', target: order.number }).orderBy('id');
  const takeBacks = (order: Order) => portal.db.knex('ledger_transactions').where('description', `${order.number} refund`).orderBy('id');

  /** Everything a refused refund must leave as it was. */
  async function snapshot(order: Order) {
    return {
      order: await current(order),
      balance: await balanceOf(portal, buyer.id),
      refunds: await portal.db.knex('payment_refunds').where('order_id', order.id),
      // A request PayPal refused stays on record as not refunded: a trace of the attempt, not a change.
      requests: await portal.db.knex('admin_refund_requests').where('order_id', order.id).whereNot('status', 'not_refunded'),
      audits: (await portal.db.knex('audit_log').select('id')).length,
      calls: refundCalls(order),
      paypal: atPayPal(order),
    };
  }

  /** Moves units between the person and a system account: printing spends them, an adjustment gives them back. */
  async function post(kind: 'usage' | 'adjustment', amount: number): Promise<void> {
    const account = await portal.ledger.userAccount(buyer.id);
    const system = await portal.db.knex('accounts').where('code', kind === 'usage' ? 'system:usage:print' : 'system:adjustments').first();
    const key = `test-${kind}-${(await portal.db.knex('ledger_transactions').count({ count: '*' }).first())!.count}`;
    await portal.ledger.post({ idempotencyKey: key, kind, lines: [{ accountId: account.id, amount }, { accountId: Number(system.id), amount: -amount }] });
  }
  const spend = (amount: number) => post('usage', -amount);

  it('refunds the whole order by default, takes the units back and audits who, why and what', async () => {
    const order = await paidOrder();
    const before = await balanceOf(portal, buyer.id);
    const page = await orderPage(order);
    expect(amountFrom(page)).to.equal('20,00');
    const response = await refund(order, page, { reason: 'Achat en double' });
    expect(response.status).to.equal(303);
    await portal.simulator.flushWebhooks();

    const after = await current(order);
    expect(after).to.include({ status: 'refunded', refundedCents: 2000 });
    expect(await balanceOf(portal, buyer.id)).to.equal(before - 2200);
    expect(atPayPal(order)).to.deep.equal({ captureStatus: 'REFUNDED', refunds: ['20.00'] });
    expect(refundCalls(order)).to.equal(1);
    const [recorded] = await portal.db.knex('payment_refunds').where('order_id', order.id);
    expect(Number(recorded.amount_cents)).to.equal(2000);
    expect(Number(recorded.vat_cents)).to.equal(333);
    expect((await portal.db.knex('ledger_transactions').where('id', recorded.ledger_transaction_id).first()).idempotency_key).to.equal(`paypal-refund:${recorded.refund_id}`);

    const [audit] = await refundAudits(order);
    expect(audit).to.include({ actor_username: 'gestion', target: order.number });
    expect(JSON.parse(audit.before_json)).to.deep.equal({ status: 'paid', refundedCents: 0, paypalCaptureId: order.paypalCaptureId });
    expect(JSON.parse(audit.after_json)).to.deep.equal({
      status: 'refunded',
      refundedCents: 2000,
      paypalCaptureId: order.paypalCaptureId,
      refundId: recorded.refund_id,
      paypalStatus: 'COMPLETED',
      amountCents: 2000,
      reason: 'Achat en double',
    });

    const shown = plain((await agent.get(response.headers.location as string).expect(200)).text);
    expect(shown).to.include(`Remboursement effectué par PayPal (référence ${recorded.refund_id})`);
    const refunds = shown.slice(shown.indexOf('id="refunds-title"'), shown.indexOf('</section>', shown.indexOf('id="refunds-title"')));
    expect(refunds).to.include(recorded.refund_id).and.include('20,00 €').and.include('3,33 €').and.include('gestion').and.include('Achat en double');
    expect(shown).to.include(`paypal-refund:${recorded.refund_id}`).and.include('−22,00');
    expect(shown).to.include('Cette commande ne peut pas être remboursée (Remboursée).');
  });

  it('makes two partial refunds, then the rest, taking back every unit once', async () => {
    const order = await paidOrder();
    const before = await balanceOf(portal, buyer.id);
    for (const [amount, status, taken] of [['5,00', 'partially_refunded', 550], ['3.33', 'partially_refunded', 550 + 366]] as const) {
      expect((await refund(order, await orderPage(order), { amount })).status, amount).to.equal(303);
      await portal.simulator.flushWebhooks();
      expect(await current(order), amount).to.include({ status });
      expect(await balanceOf(portal, buyer.id), amount).to.equal(before - taken);
    }
    const page = await orderPage(order);
    expect(amountFrom(page)).to.equal('11,67');
    expect(plain(page)).to.include('Au plus 11,67 €');
    expect((await refund(order, page)).status).to.equal(303);
    await portal.simulator.flushWebhooks();
    expect(await current(order)).to.include({ status: 'refunded', refundedCents: 2000 });
    expect(await balanceOf(portal, buyer.id)).to.equal(before - 2200);
    expect(atPayPal(order).refunds).to.deep.equal(['5.00', '3.33', '11.67']);
    expect((await refundAudits(order)).map((row) => JSON.parse(row.after_json).amountCents)).to.deep.equal([500, 333, 1167]);
  });

  it('refuses more than what remains with 400, asking nothing of PayPal', async () => {
    const order = await paidOrder();
    expect((await refund(order, await orderPage(order), { amount: '15,00' })).status).to.equal(303);
    await portal.simulator.flushWebhooks();
    const page = await orderPage(order);
    const before = await snapshot(order);
    for (const [language, amount, message] of [
      ['fr', '5,01', 'Au plus 5,00 € peut encore être remboursé sur cette commande.'],
      ['en', '20.00', 'At most €5.00 can still be refunded on this order.'],
    ] as const) {
      const response = await refund(order, page, { amount }, language);
      expect(response.status).to.equal(400);
      expect(plain(response.text)).to.include(message).and.include('aria-describedby="amount-hint amount-error"');
    }
    expect(await snapshot(order)).to.deep.equal(before);
  });

  it('refuses to refund an order that was not paid, or no longer can be, with 409', async () => {
    const unpaid = await portal.checkout.placeOrder(buyer, { packId: 'pack-10' }, termsId, 'fr');
    const paid = await paidOrder();
    const page = await orderPage(paid);
    const unpaidPage = await orderPage(unpaid);
    expect(unpaidPage).not.to.include('name="nonce"');
    const refused = await refund(unpaid, page, { amount: '10,00' });
    expect(refused.status).to.equal(409);
    expect(plain(refused.text)).to.include("Cette commande ne peut pas être remboursée : elle est dans l'état « À payer ».");

    expect((await refund(paid, page)).status).to.equal(303);
    await portal.simulator.flushWebhooks();
    const before = await snapshot(paid);
    // The page as it was before the refund, sent again as a new form.
    const again = await refund(paid, page, { amount: '1,00', nonce: 'B'.repeat(22) });
    expect(again.status).to.equal(409);
    expect(plain(again.text)).to.include('« Remboursée »');
    expect(await snapshot(paid)).to.deep.equal(before);
    expect(await portal.db.knex('audit_log').where('target', unpaid.number)).to.deep.equal([]);
  });

  it('refuses every bad input with 400 and a translated message, changing nothing', async () => {
    const order = await paidOrder();
    const page = await orderPage(order);
    const before = await snapshot(order);
    const cases: Array<[Record<string, string | undefined>, string, string]> = [
      [{ amount: 'cinq' }, 'Indiquez un montant valide, par exemple 5,00.', 'Enter a valid amount, for example 5.00.'],
      [{ amount: '' }, 'Indiquez un montant valide, par exemple 5,00.', 'Enter a valid amount, for example 5.00.'],
      [{ amount: '-5' }, 'Indiquez un montant valide, par exemple 5,00.', 'Enter a valid amount, for example 5.00.'],
      [{ amount: '0,00' }, 'Le montant à rembourser doit être supérieur à zéro.', 'The amount to refund must be more than zero.'],
      [{ reason: '   ' }, 'Indiquez le motif du remboursement.', 'Enter the reason for the refund.'],
      [{ reason: undefined }, 'Indiquez le motif du remboursement.', 'Enter the reason for the refund.'],
      [{ reason: 'x'.repeat(501) }, 'Le motif ne doit pas dépasser 500 caractères.', 'The reason must be at most 500 characters long.'],
    ];
    for (const [fields, fr, en] of cases) {
      const french = await refund(order, page, fields);
      expect(french.status, JSON.stringify(fields)).to.equal(400);
      expect(plain(french.text), JSON.stringify(fields)).to.include(fr).and.include('Corrigez les points signalés ci-dessous.');
      expect(nonceFrom(french.text), 'the same form, the same nonce').to.equal(nonceFrom(page));
      const english = await refund(order, page, fields, 'en');
      expect(english.status).to.equal(400);
      expect(plain(english.text), JSON.stringify(fields)).to.include(en);
    }
    for (const nonce of [undefined, '', 'short', `${'a'.repeat(21)}!`]) {
      const response = await refund(order, page, { nonce });
      expect(response.status, String(nonce)).to.equal(400);
      expect(plain(response.text)).to.include('Requête incorrecte');
    }
    expect(await snapshot(order)).to.deep.equal(before);
  });

  it("under 'refuse', refuses a refund of units already spent, says how many are missing, and leaves PayPal untouched", async () => {
    const order = await paidOrder();
    await spend((await balanceOf(portal, buyer.id)) - 1200); // 12 units left of the 22 the refund takes back
    const page = await orderPage(order);
    expect(plain(page)).to.include('Règle actuelle : un remboursement qui reprendrait des unités déjà utilisées est refusé.');
    const before = await snapshot(order);
    const response = await refund(order, page);
    expect(response.status).to.equal(409);
    expect(plain(response.text)).to.include('il manque 10,00 unités sur son compte');
    expect(await snapshot(order)).to.deep.equal(before);
    expect(before.paypal).to.deep.equal({ captureStatus: 'COMPLETED', refunds: [] });
    const english = await refund(order, page, {}, 'en');
    expect(plain(english.text)).to.include('their account lacks 10.00 units');

    // A smaller refund the balance covers still goes through: 10,00 € takes back 11 units.
    expect((await refund(order, page, { amount: '10,00' })).status).to.equal(303);
    await portal.simulator.flushWebhooks();
    expect(await balanceOf(portal, buyer.id)).to.equal(100);
  });

  it("under 'allow_negative', refunds anyway: the balance goes below zero and the account is flagged", async () => {
    const list = (await agent.get('/admin/orders').expect(200)).text;
    expect((await agent.post('/admin/orders/settings').type('form').send({ _csrf: csrfTokenFrom(list), refundPolicy: 'allow_negative' })).status).to.equal(303);
    try {
      const order = await paidOrder();
      await spend(await balanceOf(portal, buyer.id)); // nothing left
      const page = await orderPage(order);
      expect(plain(page)).to.include('Règle actuelle : un remboursement peut rendre le solde négatif');
      expect((await refund(order, page)).status).to.equal(303);
      await portal.simulator.flushWebhooks();
      expect(await balanceOf(portal, buyer.id)).to.equal(-2200);
      expect((await portal.ledger.userAccount(buyer.id)).balance).to.equal(-2200);
      expect(Boolean((await portal.db.knex('accounts').where('user_id', buyer.id).first()).flagged)).to.equal(true);
      expect(plain(await orderPage(order))).to.include('Compte signalé');
    } finally {
      const again = (await agent.get('/admin/orders').expect(200)).text;
      await agent.post('/admin/orders/settings').type('form').send({ _csrf: csrfTokenFrom(again), refundPolicy: 'refuse' });
      await portal.simulator.flushWebhooks();
      await post('adjustment', -(await balanceOf(portal, buyer.id))); // back to zero for the next tests
    }
  });

  it('refunds once when the same form is sent twice, one after the other or at the same time', async () => {
    const order = await paidOrder();
    const before = await balanceOf(portal, buyer.id);
    const page = await orderPage(order);
    const first = await refund(order, page, { amount: '5,00' });
    const second = await refund(order, page, { amount: '5,00' });
    expect([first.status, second.status]).to.deep.equal([303, 303]);
    expect(plain((await agent.get(second.headers.location as string)).text)).to.include('Ce formulaire avait déjà été envoyé');

    const another = await orderPage(order);
    const racing = await Promise.all([refund(order, another, { amount: '2,00' }), refund(order, another, { amount: '2,00' })]);
    expect(racing.map((response) => response.status)).to.have.members([303, 303]);
    await portal.simulator.flushWebhooks();

    expect(atPayPal(order).refunds).to.deep.equal(['5.00', '2.00']);
    expect(await takeBacks(order)).to.have.length(2);
    expect(await balanceOf(portal, buyer.id)).to.equal(before - 550 - 220);
    expect(await current(order)).to.include({ status: 'partially_refunded', refundedCents: 700 });
    expect(await refundAudits(order)).to.have.length(2);
    expect(await portal.db.knex('admin_refund_requests').where('order_id', order.id)).to.have.length(2);
  });

  it("under 'refuse', lets only one of two refunds at once take the same units", async () => {
    await saveRefundPolicy(portal.db.knex, 'refuse');
    const [first, second] = [await paidOrder(), await paidOrder()];
    await spend((await balanceOf(portal, buyer.id)) - 2200); // enough for one full refund, not two
    const pages = [await orderPage(first), await orderPage(second)];
    const answers = await Promise.all([refund(first, pages[0]!), refund(second, pages[1]!)]);
    expect(answers.map((response) => response.status)).to.have.members([303, 409]);
    expect(plain(answers.find((response) => response.status === 409)!.text)).to.include('il manque 22,00 unités');
    await portal.simulator.flushWebhooks();
    expect(await balanceOf(portal, buyer.id)).to.equal(0);
    expect(refundCalls(first) + refundCalls(second)).to.equal(1);
  });

  it('ends a refund\'s hold on the units in the transaction that takes them back, before its request is closed', async () => {
    const order = await paidOrder();
    const requestId = `admin-refund-${order.id}-window`;
    const admin = (await portal.db.knex('users').where('username', 'gestion').first('id')) as { id: number };
    await portal.db.transaction((trx) =>
      savePendingRefundRequest(trx, { requestId, orderId: order.id, amountCents: 2000, unitsReserved: 2200, reason: 'Erreur de montant', requestedBy: admin.id }, new Date()),
    );
    const held = () => unitsHeldByPendingRefunds(portal.db.knex, buyer.id, new Date(Date.now() - 60_000));
    expect(await held()).to.equal(2200);
    const before = await balanceOf(portal, buyer.id);
    // What the admin's refund does between asking PayPal and closing its request.
    expect(await portal.checkout.refund(await current(order), 2000, requestId)).to.include({ kind: 'refunded', settled: true });
    expect(await portal.db.knex('admin_refund_requests').where('request_id', requestId).first('status')).to.deep.equal({ status: 'pending' });
    expect(await balanceOf(portal, buyer.id)).to.equal(before - 2200);
    expect(await held()).to.equal(0);
  });

  it('keeps holding the units of a refund PayPal accepted but has not completed (PENDING: nothing taken back yet)', async () => {
    const order = await paidOrder();
    const requestId = `admin-refund-${order.id}-pending`;
    const admin = (await portal.db.knex('users').where('username', 'gestion').first('id')) as { id: number };
    await portal.db.transaction(async (trx) => {
      await savePendingRefundRequest(trx, { requestId, orderId: order.id, amountCents: 2000, unitsReserved: 2200, reason: 'Erreur de montant', requestedBy: admin.id }, new Date());
      await closeRefundRequest(trx, requestId, { status: 'refunded', refundId: 'PENDINGREFUND1' }, new Date());
    });
    expect(await unitsHeldByPendingRefunds(portal.db.knex, buyer.id, new Date(Date.now() - 60_000))).to.equal(2200);
  });

  it('refuses a form sent again with another amount, since PayPal would replay its first refund', async () => {
    const order = await paidOrder();
    const page = await orderPage(order);
    expect((await refund(order, page, { amount: '6,00' })).status).to.equal(303);
    const reused = await refund(order, page, { amount: '1,00' });
    expect(reused.status).to.equal(409);
    expect(plain(reused.text)).to.include('Ce formulaire a déjà servi à demander un autre montant.');
    await portal.simulator.flushWebhooks();
    expect(atPayPal(order).refunds).to.deep.equal(['6.00']);
    expect(refundCalls(order)).to.equal(1);
    expect(await refundAudits(order)).to.have.length(1);
  });

  it('changes nothing when PayPal refuses the refund, and says why', async () => {
    const order = await paidOrder();
    // Refunded from PayPal's dashboard while its notification was lost: the portal still thinks 20,00 € remain.
    portal.simulator.setWebhookUrl(null);
    portal.simulator.refundCapture(order.paypalOrderId!, '15.00');
    const page = await orderPage(order);
    const before = await snapshot(order);
    const response = await refund(order, page, { amount: '10,00' });
    expect(response.status).to.equal(502);
    expect(plain(response.text)).to.include('PayPal a refusé le remboursement (REFUND_AMOUNT_EXCEEDED). Rien n\'a été modifié.');
    expect(await snapshot(order)).to.deep.equal({ ...before, calls: before.calls + 1 });

    // Checking with PayPal brings the dashboard refund in.
    const checked = await agent.post(`/admin/orders/${order.number}/check`).type('form').send({ _csrf: csrfTokenFrom(page) });
    expect(plain((await agent.get(checked.headers.location as string)).text)).to.include('Payée → Partiellement remboursée').and.include('Remboursé : 0,00 € → 15,00 €');
  });

  it('looks the payment up after a 500 and, finding no refund, changes nothing; the same form then refunds once', async () => {
    const order = await paidOrder();
    const before = await snapshot(order);
    portal.simulator.setFault({ type: 'http500', times: 1, operation: 'refund' });
    const page = await orderPage(order);
    const failed = await refund(order, page, { amount: '4,00' });
    expect(failed.status).to.equal(502);
    expect(plain(failed.text)).to.include("PayPal n'a pas répondu clairement et ne montre aucun nouveau remboursement : rien n'a été modifié.");
    expect(await snapshot(order)).to.deep.equal({ ...before, calls: before.calls + 1 });
    const lookUps = portal.simulator.requests.filter((request) => request.method === 'GET' && request.path === `/v2/checkout/orders/${order.paypalOrderId}`);
    expect(lookUps.length).to.be.greaterThan(0);

    expect(nonceFrom(failed.text)).to.equal(nonceFrom(page));
    expect((await refund(order, failed.text)).status).to.equal(303);
    await portal.simulator.flushWebhooks();
    expect(atPayPal(order).refunds).to.deep.equal(['4.00']);
    expect(await balanceOf(portal, buyer.id)).to.equal(before.balance - 440);
  });

  it('after an unclear answer, takes as its own only the refund carrying its request id, not one of the same amount made elsewhere', async () => {
    const order = await paidOrder();
    // Refunded from PayPal's dashboard, its notification lost: a refund of 6,00 € the portal has not seen.
    portal.simulator.setWebhookUrl(null);
    portal.simulator.refundCapture(order.paypalOrderId!, '6.00');
    portal.simulator.setFault({ type: 'http500', times: 1, operation: 'refund', afterEffect: true });
    const page = await orderPage(order);
    expect((await refund(order, page, { amount: '6,00' })).status).to.equal(303);
    const [request] = await portal.db.knex('admin_refund_requests').where('order_id', order.id);
    const ours = await portal.db.knex('payment_refunds').where('refund_id', request.refund_id).first();
    expect(ours.invoice_id).to.equal(request.request_id);
    expect(await portal.db.knex('payment_refunds').where('order_id', order.id).whereNot('refund_id', request.refund_id).first('invoice_id')).to.deep.equal({ invoice_id: order.number });
  });

  it('after an unclear answer, concludes nothing while PayPal lists a refund it cannot tell from its own, and the same form then gets that refund, not a second one', async () => {
    const order = await paidOrder();
    const before = await balanceOf(portal, buyer.id);
    // PayPal keeps the order's invoice_id on the refund instead of the request's, and answers 500 after refunding.
    portal.simulator.setFault({ type: 'refundInvoiceIgnored' }, { orderId: order.paypalOrderId! });
    portal.simulator.setFault({ type: 'http500', times: 1, operation: 'refund', afterEffect: true });
    const page = await orderPage(order);
    const unclear = await refund(order, page, { amount: '6,00' });
    expect(unclear.status).to.equal(502);
    expect(plain(unclear.text)).to.include('ne permet pas encore de dire si ce remboursement a été fait');
    const [request] = await portal.db.knex('admin_refund_requests').where('order_id', order.id);
    expect(request.status, 'the request, until PayPal says').to.equal('pending');
    expect(await balanceOf(portal, buyer.id), 'the refund PayPal listed is applied all the same').to.equal(before - 660);

    expect((await refund(order, unclear.text)).status).to.equal(303);
    await portal.simulator.flushWebhooks();
    expect(atPayPal(order).refunds).to.deep.equal(['6.00']);
    expect(await balanceOf(portal, buyer.id)).to.equal(before - 660);
    expect(await takeBacks(order)).to.have.length(1);
    expect(await refundAudits(order)).to.have.length(1);
    expect((await portal.db.knex('admin_refund_requests').where('order_id', order.id).first('status')).status).to.equal('refunded');
  });

  for (const [name, fault] of [
    ['refunds, then answers 500', { type: 'http500', times: 1, operation: 'refund', afterEffect: true }],
    ['refunds, then answers after our timeout', { type: 'delay', ms: 1500, operation: 'refund' }],
  ] as const) {
    it(`looks the payment up instead of refunding again when PayPal ${name}`, async () => {
      const order = await paidOrder();
      const before = await balanceOf(portal, buyer.id);
      portal.simulator.setFault(fault);
      const response = await refund(order, await orderPage(order), { amount: '6,00' });
      expect(response.status).to.equal(303);
      await portal.simulator.flushWebhooks();
      expect(refundCalls(order)).to.equal(1);
      expect(atPayPal(order).refunds).to.deep.equal(['6.00']);
      expect(await balanceOf(portal, buyer.id)).to.equal(before - 660);
      expect(await takeBacks(order)).to.have.length(1);
      const [audit] = await refundAudits(order);
      expect(JSON.parse(audit.after_json)).to.include({ status: 'partially_refunded', refundedCents: 600, amountCents: 600 });
    });
  }
});
