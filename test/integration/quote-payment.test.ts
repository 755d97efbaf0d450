import { expect } from 'chai';
import supertest from 'supertest';
import { testDialect } from '../helpers/database.js';
import { formFields, withChanges } from '../helpers/html-form.js';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';
import { checkPaymentsSettled, customerOf as customerOfQuote, pressPay as pressPayOf, toPayPal as toPayPalOf } from '../helpers/quote-payments.js';
import { dayFromNow, draftQuote, sendDraft, sentQuote } from '../helpers/quotes.js';
import { formatOrderNumber } from '../../src/domain/checkout/orders.js';
import { createGatewayFromConfig } from '../../src/payments/paypal/from-config.js';
import { pathOf, publishOffers } from '../helpers/topup.js';

type Agent = ReturnType<typeof supertest.agent>;

/** French amounts carry narrow no-break spaces. */
const plain = (text: string) => text.replace(/[\u00a0\u202f]/g, ' ');

describe(`quotes paid online: confirm, PayPal, paid page (${testDialect})`, function () {
  let portal: TestPortal;
  let desk: Agent;
  let termsId: number;

  const knex = () => portal.db.knex;
  const quoteRow = (number: string) => knex()('quotes').where('number', number).first();
  const ordersOf = async (number: string) => knex()('orders').where('quote_id', (await quoteRow(number)).id).orderBy('id').select('*');

  const customerOf = (number: string) => customerOfQuote(portal, number);
  const pressPay = (agent: Agent, number: string, extra: Record<string, string> = {}) => pressPayOf(agent, number, termsId, extra);
  const toPayPal = (agent: Agent, number: string) => toPayPalOf(portal, agent, number, termsId);

  before(async () => {
    portal = await createTestPortal({ SELLER_NAME: 'Université Exemple', SELLER_EMAIL: 'reprographie@univ.example' });
    termsId = await publishOffers(portal);
    await portal.addUser('accueil', 'desk-password', { displayName: 'Accueil Repro' });
    await knex()('users').where('username', 'accueil').update({ quote_desk: true });
    desk = supertest.agent(portal.app);
    expect((await logIn(desk, 'accueil', 'desk-password')).status).to.equal(303);
  });
  afterEach(() => checkPaymentsSettled(portal));
  after(() => portal.cleanup());

  it('follows the seed: lookup → the quote checked like a basket → terms → PayPal → back on the quote, paid, with its reference and receipt', async () => {
    const number = await sentQuote(portal, desk);
    const ledgerBefore = await knex()('ledger_transactions').count({ count: '*' }).first();
    const customer = await customerOf(number);

    const page = plain((await customer.get(`/quotes/${number}`).expect(200)).text);
    for (const expected of ['À payer', 'Thèse, impression couleur', 'Reliure thermocollée', '47,49 €', '40,72 €', '6,25 €', '0,52 €', 'Envoi par la poste', '12 rue des Écoles', '75 005', 'Passer au paiement']) {
      expect(page).to.include(expected);
    }
    expect(page).not.to.include('Payée');

    const withoutTerms = await customer.post(`/quotes/${number}/pay`).type('form').send(withChanges(formFields(page, `/quotes/${number}/pay`), { terms: undefined }));
    expect(withoutTerms.status).to.equal(400);
    expect(withoutTerms.text).to.include('Acceptez les conditions de vente pour continuer.');
    expect(await ordersOf(number)).to.deep.equal([]);

    const paypalOrderId = await toPayPal(customer, number);
    const [order] = await ordersOf(number);
    expect(order).to.include({ kind: 'quote', status: 'awaiting_payment', price_cents: 4749, user_id: null });
    // bigint columns: strings on PostgreSQL.
    expect([Number(order.units), Number(order.bonus_units)]).to.deep.equal([0, 0]);

    const back = await customer.get(pathOf(portal.simulator.approve(paypalOrderId)));
    expect(back.status).to.equal(303);
    expect(back.headers.location).to.equal(`/quotes/${number}`);
    const paid = plain((await customer.get(`/quotes/${number}`).expect(200)).text);
    const after = (await ordersOf(number))[0];
    expect(after.status).to.equal('paid');
    expect(paid).to.include('Payée').and.include(after.paypal_capture_id).and.include('Télécharger le reçu (PDF)').and.not.include('Passer au paiement');
    expect(await quoteRow(number)).to.include({ status: 'paid', paid_order_id: after.id });

    // The money paid the quote: no units moved, one receipt for the customer, mailed to them.
    expect(await knex()('ledger_transactions').count({ count: '*' }).first()).to.deep.equal(ledgerBefore);
    const documents = await knex()('documents').where('order_id', after.id).select('*');
    expect(documents.map((document: Record<string, unknown>) => [document.kind, document.buyer_name, document.buyer_email])).to.deep.equal([['receipt', 'Camille Martin', 'camille.martin@example.edu']]);
    expect(await knex()('mail_outbox').where('document_id', documents[0].id).select('recipient')).to.deep.equal([{ recipient: 'camille.martin@example.edu' }]);
    const events = await knex()('quote_events').where('quote_id', after.quote_id).orderBy('id').select('type', 'to_status');
    expect(events.at(-1)).to.deep.equal({ type: 'status', to_status: 'paid' });
  });

  it('shows the quote only to a browser that gave its number and postcode; anyone else is sent to the lookup, whether the quote exists or not', async () => {
    const number = await sentQuote(portal, desk);
    const stranger = supertest.agent(portal.app);
    for (const path of [`/quotes/${number}`, '/quotes/D-2026-999999']) {
      const response = await stranger.get(path);
      expect(response.status, path).to.equal(303);
      expect(response.headers.location).to.equal(`/quotes/lookup?number=${path.slice('/quotes/'.length)}`);
    }
    const pay = await stranger.post(`/quotes/${number}/pay`).type('form').send({});
    expect(pay.status).to.equal(403);
    expect(await ordersOf(number)).to.deep.equal([]);
    expect((await stranger.get('/quotes/not-a-number')).status).to.equal(404);
  });

  it('shows the person a quote is made out to their quote once sent (not the draft), lets them pay it without the lookup, and forgets it at logout', async () => {
    await portal.addUser('camille', 'camille-password');
    const student = supertest.agent(portal.app);
    expect((await logIn(student, 'camille', 'camille-password')).status).to.equal(303);
    const number = await draftQuote(portal, desk, { username: 'camille' });
    expect((await student.get(`/quotes/${number}`)).status).to.equal(303);
    await sendDraft(desk, number);
    expect((await student.get(`/quotes/${number}`).expect(200)).text).to.include('Passer au paiement');

    const paypalOrderId = await toPayPal(student, number);
    const back = await student.get(pathOf(portal.simulator.approve(paypalOrderId)));
    expect(back.headers.location).to.equal(`/quotes/${number}`);
    expect((await quoteRow(number)).status).to.equal('paid');

    const page = await student.get('/account').expect(200);
    const logout = await student.post('/logout').type('form').send({ _csrf: csrfTokenFrom(page.text) });
    expect(logout.status).to.equal(303);
    const after = await student.get(`/quotes/${number}`);
    expect(after.status).to.equal(303);
    expect(after.headers.location).to.equal(`/quotes/lookup?number=${number}`);
  });

  it('takes the price from the quote only: amounts, lines or another quote added by the browser change nothing', async () => {
    const number = await sentQuote(portal, desk);
    const other = await sentQuote(portal, desk, { 'unitPrice-0': '1,00' });
    const customer = await customerOf(number);
    const response = await pressPay(customer, number, { amount: '0.01', priceCents: '1', totalCents: '1', 'unitPrice-0': '0,01', quoteId: String((await quoteRow(other)).id), number: other });
    expect(response.status).to.equal(303);
    expect((await ordersOf(number)).map((order: Record<string, unknown>) => order.price_cents)).to.deep.equal([4749]);
    expect(await ordersOf(other)).to.deep.equal([]);
    const paypalOrderId = new URL(response.headers.location as string).searchParams.get('token')!;
    await customer.get(pathOf(portal.simulator.approve(paypalOrderId))).expect(303);
    expect((await ordersOf(number))[0]).to.include({ status: 'paid', price_cents: 4749 });
  });

  it('is paid once whatever the clicks, returns and webhooks: ten presses at once, twenty returns at once, every webhook twice', async () => {
    const number = await sentQuote(portal, desk);
    const customer = await customerOf(number);
    const presses = await Promise.all(Array.from({ length: 10 }, () => pressPay(customer, number)));
    const approvals = new Set(presses.map((press) => press.headers.location as string));
    expect(presses.map((press) => press.status)).to.deep.equal(Array(10).fill(303));
    expect(approvals.size).to.equal(1);
    expect(await ordersOf(number)).to.have.length(1);

    const paypalOrderId = new URL([...approvals][0]!).searchParams.get('token')!;
    portal.simulator.setWebhookUrl(null);
    const returnPath = pathOf(portal.simulator.approve(paypalOrderId));
    const returns = await Promise.all(Array.from({ length: 20 }, () => customer.get(returnPath)));
    expect(new Set(returns.map((back) => `${back.status} ${back.headers.location}`))).to.deep.equal(new Set([`303 /quotes/${number}`]));
    // PayPal's webhooks for this order (held while the returns ran), each delivered twice at once.
    const held = portal.simulator.deliveries.filter((delivery) => delivery.body.includes(paypalOrderId));
    expect(held.map((delivery) => delivery.eventType)).to.include.members(['CHECKOUT.ORDER.APPROVED', 'PAYMENT.CAPTURE.COMPLETED']);
    const deliver = (delivery: (typeof held)[number]) =>
      fetch(`${portal.baseUrl}/webhooks/paypal`, { method: 'POST', body: delivery.body, headers: { 'content-type': 'application/json', ...delivery.headers } });
    const answers = await Promise.all([...held, ...held].map(deliver));
    expect(answers.map((answer) => answer.status)).to.deep.equal(Array(2 * held.length).fill(200));
    await portal.checkout.reconcile();

    const orders = await ordersOf(number);
    expect(orders.map((order: Record<string, unknown>) => order.status)).to.deep.equal(['paid']);
    expect(await knex()('documents').where('order_id', orders[0].id).select('kind')).to.deep.equal([{ kind: 'receipt' }]);
    const paidEvents = await knex()('quote_events').where({ quote_id: orders[0].quote_id, to_status: 'paid' }).select('id');
    expect(paidEvents).to.have.length(1);
    const atPayPal = portal.simulator.order(paypalOrderId) as { purchase_units: Array<{ payments: { captures: unknown[] } }> };
    expect(atPayPal.purchase_units[0]!.payments.captures).to.have.length(1);
  });

  it('after a cancel at PayPal, says nothing was charged and lets the customer pay again; one payment in the end', async () => {
    const number = await sentQuote(portal, desk);
    const customer = await customerOf(number);
    const first = await toPayPal(customer, number);
    const cancelled = await customer.get(`/quotes/cancel?token=${first}`);
    expect(cancelled.status).to.equal(303);
    expect(cancelled.headers.location).to.equal(`/quotes/${number}?from=cancel`);
    expect((await customer.get(cancelled.headers.location as string).expect(200)).text).to.include('Paiement annulé chez PayPal');

    const second = await toPayPal(customer, number);
    expect(second).not.to.equal(first);
    await customer.get(pathOf(portal.simulator.approve(second))).expect(303);
    expect((await ordersOf(number)).map((order: Record<string, unknown>) => order.status)).to.deep.equal(['cancelled', 'paid']);
  });

  it('records a second payment PayPal took for a quote already paid, keeps the first, and flags it for a refund', async () => {
    const number = await sentQuote(portal, desk);
    const customer = await customerOf(number);
    portal.simulator.setWebhookUrl(null);
    const first = await toPayPal(customer, number);
    portal.simulator.approve(first);
    // Captured at PayPal, the answer lost; then the order closed on a stale look-up. Only PayPal misbehaving gets here.
    const gateway = createGatewayFromConfig(portal.config.payments, portal.simulator.baseUrl);
    await gateway.capture(first, 'a-capture-whose-answer-was-lost');
    const [firstOrder] = await ordersOf(number);
    await knex()('orders').where('id', firstOrder.id).update({ status: 'expired' });

    const second = await toPayPal(customer, number);
    await customer.get(pathOf(portal.simulator.approve(second))).expect(303);
    await portal.checkout.reconcile();

    const orders = await ordersOf(number);
    expect(orders.map((order: Record<string, unknown>) => order.status)).to.deep.equal(['paid', 'paid']);
    expect(await quoteRow(number)).to.include({ status: 'paid', paid_order_id: orders[1].id });
    const detail = `quote ${number} is paid: this payment is not needed and should be refunded`;
    expect(await knex()('order_events').where({ order_id: firstOrder.id, type: 'attention' }).pluck('detail')).to.deep.equal([detail]);
    const firstNumber = formatOrderNumber(firstOrder.id, new Date(firstOrder.created_at));
    expect(await knex()('quote_events').where({ quote_id: firstOrder.quote_id, type: 'attention' }).pluck('detail')).to.deep.equal([`${firstNumber}: ${detail}`]);
  });

  it('takes no money for a quote staff cancel while its customer is at PayPal; refuses to cancel while PayPal confirms a capture', async () => {
    const cancel = async (number: string) => {
      const form = await desk.get(`/desk/quotes/${number}/cancel`).expect(200);
      return desk.post(`/desk/quotes/${number}/cancel`).type('form').send(withChanges(formFields(form.text, `/desk/quotes/${number}/cancel`), { reason: 'prix erroné' }));
    };
    const number = await sentQuote(portal, desk);
    const customer = await customerOf(number);
    portal.simulator.setWebhookUrl(null);
    const paypalOrderId = await toPayPal(customer, number);
    expect((await cancel(number)).status).to.equal(303);
    // The customer approves at PayPal afterwards and comes back; the reconciler passes too.
    const back = await customer.get(pathOf(portal.simulator.approve(paypalOrderId)));
    expect(back.status).to.equal(303);
    await portal.checkout.reconcile();
    expect((await ordersOf(number)).map((order: Record<string, unknown>) => order.status)).to.deep.equal(['cancelled']);
    expect(await quoteRow(number)).to.include({ status: 'cancelled', paid_order_id: null });
    const atPayPal = portal.simulator.order(paypalOrderId) as { purchase_units: Array<{ payments?: { captures?: unknown[] } }> };
    expect(atPayPal.purchase_units[0]!.payments?.captures ?? []).to.deep.equal([]);
    expect(plain((await customer.get(`/quotes/${number}`).expect(200)).text)).to.include('Annulé');

    const pending = await sentQuote(portal, desk);
    const pendingCustomer = await customerOf(pending);
    const pendingPayPalOrder = await toPayPal(pendingCustomer, pending);
    portal.simulator.setFault({ type: 'pending' }, { orderId: pendingPayPalOrder });
    await pendingCustomer.get(pathOf(portal.simulator.approve(pendingPayPalOrder))).expect(303);
    expect((await ordersOf(pending))[0].status).to.equal('capture_pending');
    const refused = await cancel(pending);
    expect(refused.status).to.equal(409);
    expect(refused.text).to.include('PayPal confirme en ce moment le paiement de ce devis');
    expect((await quoteRow(pending)).status).to.equal('sent');
    portal.simulator.completePendingCapture(pendingPayPalOrder);
    await portal.checkout.reconcile();
    expect((await quoteRow(pending)).status).to.equal('paid');
  });

  it('refuses to pay an expired quote (409) and says so with the desk’s contact; a return from PayPal for another browser’s quote is 404', async () => {
    const number = await sentQuote(portal, desk);
    const customer = await customerOf(number);
    const paypalOrderId = await toPayPal(customer, number);
    const stranger = supertest.agent(portal.app);
    expect((await stranger.get(`/quotes/return?token=${paypalOrderId}`)).status).to.equal(404);
    expect((await ordersOf(number))[0].status).to.equal('awaiting_payment');

    // Valid until today: the customer opens it at 23:30 in Paris and presses the button after midnight.
    const lastDay = await sentQuote(portal, desk, { validUntil: dayFromNow(portal, 0) });
    portal.clock.advance(12.5 * 3600_000);
    const lateCustomer = await customerOf(lastDay);
    const page = await lateCustomer.get(`/quotes/${lastDay}`).expect(200);
    const fields = withChanges(formFields(page.text, `/quotes/${lastDay}/pay`), { terms: String(termsId) });
    // Sent to PayPal before midnight, not approved: pressing again after midnight does not reuse that order.
    await toPayPal(lateCustomer, lastDay);
    portal.clock.advance(3600_000);
    const refused = await lateCustomer.post(`/quotes/${lastDay}/pay`).type('form').send(fields);
    expect(refused.status).to.equal(409);
    expect(plain(refused.text)).to.include('Expiré').and.include('reprographie@univ.example').and.not.include('Passer au paiement');
    expect((await ordersOf(lastDay)).map((order: Record<string, unknown>) => order.status)).to.deep.equal(['awaiting_payment']);
  });
});
