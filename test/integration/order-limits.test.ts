import { expect } from 'chai';
import supertest from 'supertest';
import { findOrder } from '../../src/db/checkout/order-repository.js';
import { publishTerms } from '../../src/db/pricing/terms-repository.js';
import { DEMO_TERMS } from '../../src/services/demo/demo.js';
import { testDialect } from '../helpers/database.js';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';
import { pathOf, pay, placeOrder, publishOffers, restorePayments } from '../helpers/topup.js';

const PASSWORD = 'a good long password';
const OPEN_ORDERS = 3;
const PAYPAL_ORDERS_A_MINUTE = 2;

describe(`orders and PayPal orders per person (${testDialect})`, () => {
  let portal: TestPortal;
  let termsId: number;

  before(async () => {
    portal = await createTestPortal({ OPEN_ORDERS_PER_PERSON: String(OPEN_ORDERS), PAYPAL_ORDERS_PER_PERSON_PER_MINUTE: String(PAYPAL_ORDERS_A_MINUTE) });
    termsId = await publishOffers(portal);
  });
  afterEach(() => restorePayments(portal));
  after(() => portal.cleanup());

  /** A new person, logged in, with the top-up form's CSRF token. */
  async function person(username: string) {
    const user = await portal.addUser(username, PASSWORD);
    const agent = supertest.agent(portal.app);
    await logIn(agent, username, PASSWORD);
    const csrf = csrfTokenFrom((await agent.get('/topup')).text);
    const submit = (fields: Record<string, string>, language = 'fr') => agent.post('/topup').set('Accept-Language', language).type('form').send({ _csrf: csrf, ...fields });
    const ordersOf = async () => (await portal.db.knex('orders').where('user_id', user.id)).length;
    return { agent, submit, ordersOf };
  }
  const paypalOrdersCreated = () => portal.simulator.requests.filter((request) => request.method === 'POST' && request.path === '/v2/checkout/orders').length;

  it('brings the person back to their open order when they choose the same offer again, until it is paid', async () => {
    const { agent, ordersOf } = await person('again');
    const first = await placeOrder(agent, { offer: 'pack-10', terms: String(termsId) });
    expect(await placeOrder(agent, { offer: 'pack-10', terms: String(termsId) }), '"Continuer" twice').to.equal(first);
    const paypalOrderId = await pay(agent, portal, first);
    expect(await placeOrder(agent, { offer: 'pack-10', terms: String(termsId) }), 'sent to PayPal, not paid').to.equal(first);
    expect(await pay(agent, portal, first)).to.equal(paypalOrderId);
    expect(await placeOrder(agent, { offer: 'pack-20', terms: String(termsId) }), 'another offer').to.not.equal(first);
    expect(await ordersOf()).to.equal(2);

    await agent.get(pathOf(portal.simulator.approve(paypalOrderId)));
    await portal.simulator.flushWebhooks();
    expect(await placeOrder(agent, { offer: 'pack-10', terms: String(termsId) }), 'once paid, a new top-up').to.not.equal(first);
  });

  it('places a new order when the terms of sale changed since', async () => {
    const { agent } = await person('terms');
    const first = await placeOrder(agent, { offer: 'pack-5', terms: String(termsId) });
    portal.clock.advance(1000);
    termsId = (await publishTerms(portal.db.knex, { fr: `${DEMO_TERMS.fr}\n\nArticle ajouté.`, en: `${DEMO_TERMS.en}\n\nAdded article.` }, portal.clock.now())).id;
    expect(await placeOrder(agent, { offer: 'pack-5', terms: String(termsId) })).to.not.equal(first);
  });

  it('makes one order of 20 "Continuer" sent at once', async () => {
    const { submit, ordersOf } = await person('burst');
    const answers = await Promise.all(Array.from({ length: 20 }, () => submit({ offer: 'pack-20', terms: String(termsId) })));
    expect(answers.map((answer) => answer.status)).to.deep.equal(Array(20).fill(303));
    expect(new Set(answers.map((answer) => answer.headers.location)).size).to.equal(1);
    expect(await ordersOf()).to.equal(1);
  });

  it(`keeps at most ${OPEN_ORDERS} orders waiting for payment, even when 20 different ones are sent at once, and says why (409)`, async () => {
    const { submit, ordersOf } = await person('cap');
    const answers = await Promise.all(Array.from({ length: 20 }, (_, index) => submit({ offer: 'free', amount: String(5 + index), terms: String(termsId) })));
    expect(answers.filter((answer) => answer.status === 303)).to.have.length(OPEN_ORDERS);
    const refused = answers.filter((answer) => answer.status === 409);
    expect(refused).to.have.length(20 - OPEN_ORDERS);
    expect(await ordersOf()).to.equal(OPEN_ORDERS);
    const page = refused[0]!.text;
    expect(page).to.include(`Vous avez déjà ${OPEN_ORDERS} commandes en attente de paiement. Payez l&#39;une d&#39;elles, ou attendez qu&#39;elles expirent, avant d&#39;en passer une nouvelle.`);
    for (const answer of answers.filter((candidate) => candidate.status === 303)) expect(page).to.include(`href="${answer.headers.location}"`);

    const english = await submit({ offer: 'free', amount: '40', terms: String(termsId) }, 'en');
    expect(english.status).to.equal(409);
    expect(english.text).to.include(`You already have ${OPEN_ORDERS} orders waiting for payment. Pay one of them, or wait for them to expire, before placing a new one.`);

    // Orders older than the expiry time no longer count, whether or not the reconciler expired them yet.
    portal.clock.advance(portal.config.payments.orderExpiryMinutes * 60_000 + 1000);
    const later = supertest.agent(portal.app); // the first session idled out meanwhile
    await logIn(later, 'cap', PASSWORD);
    await placeOrder(later, { offer: 'free', amount: '40', terms: String(termsId) });
    expect(await ordersOf()).to.equal(OPEN_ORDERS + 1);
  });

  it(`starts at most ${PAYPAL_ORDERS_A_MINUTE} PayPal orders a minute per person, even when asked at once, and says when to try again (429)`, async () => {
    const { agent, submit } = await person('payer');
    const numbers: string[] = [];
    for (const amount of ['5', '6', '7']) numbers.push(((await submit({ offer: 'free', amount, terms: String(termsId) })).headers.location as string).replace('/orders/', ''));
    const csrf = csrfTokenFrom((await agent.get(`/orders/${numbers[0]}`)).text);
    const created = paypalOrdersCreated();
    const answers = await Promise.all(numbers.map((number) => agent.post(`/orders/${number}/pay`).type('form').send({ _csrf: csrf })));
    expect(answers.filter((answer) => answer.status === 303)).to.have.length(PAYPAL_ORDERS_A_MINUTE);
    expect(paypalOrdersCreated() - created, 'PayPal orders created').to.equal(PAYPAL_ORDERS_A_MINUTE);
    const refused = answers.find((answer) => answer.status === 429)!;
    expect(refused.headers['retry-after']).to.equal('60');
    expect(refused.text).to.include('Vous avez commencé beaucoup de paiements PayPal en une minute. Réessayez dans 60 secondes.');
    const waiting = numbers[answers.indexOf(refused)]!;

    // A PayPal order already started is the same PayPal order again: not counted, not refused.
    const started = numbers[answers.findIndex((answer) => answer.status === 303)]!;
    expect((await agent.post(`/orders/${started}/pay`).type('form').send({ _csrf: csrf })).status).to.equal(303);
    portal.clock.advance(45_000);
    const english = await agent.post(`/orders/${waiting}/pay`).set('Accept-Language', 'en').type('form').send({ _csrf: csrf });
    expect(english.status).to.equal(429);
    expect(english.headers['retry-after']).to.equal('15');
    expect(english.text).to.include('You have started many PayPal payments within a minute. Please try again in 15 seconds.');
    portal.clock.advance(15_000);
    expect((await agent.post(`/orders/${waiting}/pay`).type('form').send({ _csrf: csrf })).status).to.equal(303);
    expect(paypalOrdersCreated() - created).to.equal(PAYPAL_ORDERS_A_MINUTE + 1);
  });

  it('refuses to start paying an order closed since it was read, without asking PayPal or counting it', async () => {
    const { submit } = await person('late-payer');
    const number = ((await submit({ offer: 'free', amount: '5', terms: String(termsId) })).headers.location as string).replace('/orders/', '');
    const { id } = await portal.db.knex('orders').orderBy('id', 'desc').first('id');
    const read = (await findOrder(portal.db.knex, { id: Number(id) }))!;
    expect(read.number).to.equal(number);
    // Expired by the reconciler (or cancelled by the buyer in another tab) between the page's read and the start.
    await portal.db.knex('orders').where('id', read.id).update({ status: 'expired' });
    const created = paypalOrdersCreated();
    const attempt = await portal.checkout.startOrderPayment(read, 'fr').then(
      () => null,
      (error: unknown) => error,
    );
    expect(attempt).to.have.property('code', 'order_not_payable');
    expect(paypalOrdersCreated()).to.equal(created);
    expect(await portal.db.knex('orders').where('id', read.id).first('payment_started_at')).to.deep.equal({ payment_started_at: null });
  });
});
