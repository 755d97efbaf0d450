import { expect } from 'chai';
import supertest from 'supertest';
import type { User } from '../../src/domain/people/users.js';
import { expectLedgerConsistent, testDialect } from '../helpers/database.js';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';
import { balanceOf, captureCredits, pathOf, pay, placeOrder, publishOffers } from '../helpers/topup.js';

const PASSWORD = 'a good long password';
/** Intl puts narrow no-break spaces in French amounts ("20,00\u202f€"); compare with plain spaces. */
const plain = (html: string) => html.replace(/[\u202f\u00a0]/g, ' ');

describe(`top-up with PayPal, end to end (${testDialect})`, () => {
  let portal: TestPortal;
  let termsId: number;
  let camille: User;
  let agent: ReturnType<typeof supertest.agent>;

  before(async () => {
    portal = await createTestPortal({ SELLER_NAME: 'Université Exemple', SELLER_VAT_NUMBER: 'FR12345678901' });
    termsId = await publishOffers(portal);
    camille = await portal.addUser('camille', PASSWORD, { displayName: 'Camille Martin' });
    await portal.addUser('other', PASSWORD);
    agent = supertest.agent(portal.app);
    await logIn(agent, 'camille', PASSWORD);
  });
  afterEach(() => expectLedgerConsistent(portal.db));
  after(() => portal.cleanup());

  it('takes a person from an offer to credited units and a printable receipt', async () => {
    const page = await agent.get('/topup').expect(200);
    expect(plain(page.text)).to.include('Sélectionnez le montant à créditer').and.include('20,00 €').and.include('+ 2,00 unités offertes');
    expect(page.text).to.include('href="/terms"').and.include("J&#39;ai lu et j&#39;accepte les conditions générales de vente.");

    const number = await placeOrder(agent, { offer: 'pack-20', terms: String(termsId) });
    expect(number).to.match(/^R-2026-\d{6}$/);
    const recap = await agent.get(`/orders/${number}`).expect(200);
    for (const text of ['20,00 €', 'Dont TVA (20 %)', '3,33 €', '16,67 €', 'Paiement internet par PayPal', 'Camille Martin', '22,00 unités', 'Payer avec PayPal']) {
      expect(plain(recap.text)).to.include(text);
    }

    const paypalOrderId = await pay(agent, portal, number);
    const approvalPage = await fetch(`${portal.simulator.baseUrl}/checkoutnow?token=${paypalOrderId}`);
    expect(plain(await approvalPage.text())).to.include('20,00 €'); // the buyer sees what we asked for, in their language
    const back = await agent.get(pathOf(portal.simulator.approve(paypalOrderId)));
    expect(back.status).to.equal(303);
    expect(back.headers.location).to.equal(`/orders/${number}`);

    const paid = await agent.get(`/orders/${number}`).expect(200);
    expect(paid.text).to.include('Paiement confirmé : votre compte a été crédité.').and.include('Imprimer le reçu');
    expect(await balanceOf(portal, camille.id)).to.equal(2200);
    const receipt = await agent.get(`/orders/${number}/receipt`).expect(200);
    expect(receipt.text).to.include('Université Exemple').and.include('FR12345678901').and.include(number).and.include('Transaction PayPal');
    await portal.simulator.flushWebhooks();
    expect(await captureCredits(portal)).to.equal(1);
    expect((await agent.get('/account')).text).to.include(number);
    // One OAuth token for create, capture and the webhook-triggered look-ups: it is cached.
    expect(portal.simulator.requests.filter((request) => request.path === '/v1/oauth2/token')).to.have.length(1);
    const create = portal.simulator.requests.find((request) => request.path === '/v2/checkout/orders');
    expect(create?.requestId).to.match(/^create-order-\d+$/);
  });

  it('quotes a free amount on the server, bonus tier included', async () => {
    const number = await placeOrder(agent, { offer: 'free', amount: '25,50', terms: String(termsId) });
    const recap = await agent.get(`/orders/${number}`);
    expect(plain(recap.text)).to.include('25,50 €').and.include('Bonus offert : 1,27 unité'); // 25,50 units + 5 % rounded down
  });

  it('ignores any price, amount or currency the browser sends and uses the price list', async () => {
    // (An amount typed beside a pack is asked about: test/integration/topup-page.test.ts.)
    const number = await placeOrder(agent, { offer: 'pack-10', terms: String(termsId), price: '1', priceCents: '1', currency: 'USD', units: '99999' });
    const order = await portal.checkout.ownOrder(camille, { id: Number(number.slice(-6)) });
    expect(order).to.include({ priceCents: 1000, currency: 'EUR', units: 1000, bonusUnits: 0 });
  });

  it('refuses bad offers, bad amounts and unaccepted terms with 400, creating nothing', async () => {
    const before = (await portal.db.knex('orders')).length;
    const form = await agent.get('/topup');
    const post = (fields: Record<string, string>) => agent.post('/topup').type('form').send({ _csrf: csrfTokenFrom(form.text), ...fields });
    const cases: Array<[Record<string, string>, string]> = [
      [{ offer: 'pack-999', terms: String(termsId) }, 'Choisissez un montant.'],
      [{ terms: String(termsId) }, 'Choisissez un montant.'],
      [{ offer: 'pack-10' }, 'Vous devez accepter les conditions générales de vente.'],
      [{ offer: 'pack-10', terms: String(termsId + 1) }, 'Vous devez accepter les conditions générales de vente.'],
      [{ offer: 'free', amount: '0', terms: String(termsId) }, 'Le montant doit être compris entre 2,00 € et 150,00 €.'],
      [{ offer: 'free', amount: '1000000', terms: String(termsId) }, 'Le montant doit être compris entre'],
      [{ offer: 'free', amount: '150,50', terms: String(termsId) }, 'Le montant doit être compris entre'],
      [{ offer: 'free', amount: '12,34', terms: String(termsId) }, 'Le montant doit être un multiple de 0,50 €.'],
    ];
    for (const bad of ['-5', '1e2', 'NaN', 'Infinity', '12.345', '', ' ', '0x10', '1e309']) {
      cases.push([{ offer: 'free', amount: bad, terms: String(termsId) }, 'Indiquez un montant valide, par exemple 12,50.']);
    }
    for (const [fields, message] of cases) {
      const response = await post(fields);
      expect(response.status, JSON.stringify(fields)).to.equal(400);
      expect(plain(response.text), JSON.stringify(fields)).to.include(message);
    }
    expect((await portal.db.knex('orders')).length).to.equal(before);
  });

  it("answers 404 for another person's order, receipt, payment or PayPal return", async () => {
    const number = await placeOrder(agent, { offer: 'pack-5', terms: String(termsId) });
    const paypalOrderId = await pay(agent, portal, number);
    const intruder = supertest.agent(portal.app);
    await logIn(intruder, 'other', PASSWORD);
    const page = await intruder.get('/account');
    await intruder.get(`/orders/${number}`).expect(404);
    await intruder.get(`/orders/${number}/receipt`).expect(404);
    await intruder.post(`/orders/${number}/pay`).type('form').send({ _csrf: csrfTokenFrom(page.text) }).expect(404);
    portal.simulator.approve(paypalOrderId);
    await intruder.get(`/topup/return?token=${paypalOrderId}`).expect(404);
    await intruder.get(`/topup/cancel?token=${paypalOrderId}`).expect(404);
    await intruder.get('/orders/R-2026-999999').expect(404);
    await intruder.get('/orders/not-a-number').expect(404);
    await portal.simulator.flushWebhooks();
  });

  it('credits exactly once when 20 returns, captures and duplicate webhooks race for one order', async () => {
    const start = await balanceOf(portal, camille.id);
    const creditsBefore = await captureCredits(portal);
    portal.simulator.setFault({ type: 'webhooks', duplicates: 3 });
    try {
      const number = await placeOrder(agent, { offer: 'pack-10', terms: String(termsId) });
      const paypalOrderId = await pay(agent, portal, number);
      const returnPath = pathOf(portal.simulator.approve(paypalOrderId));
      const order = await portal.checkout.ownOrder(camille, { paypalOrderId });
      await Promise.all([
        ...Array.from({ length: 10 }, () => agent.get(returnPath)),
        ...Array.from({ length: 10 }, () => portal.checkout.settle(order, { captureFirst: true })),
        portal.checkout.reconcile(),
      ]);
      await portal.simulator.flushWebhooks();
      expect(await balanceOf(portal, camille.id)).to.equal(start + 1000);
      expect(await captureCredits(portal)).to.equal(creditsBefore + 1);
      expect((await portal.checkout.ownOrder(camille, { id: order.id })).status).to.equal('paid');
    } finally {
      portal.simulator.clearFaults();
    }
  });

  it('marks an order cancelled when the buyer cancels at PayPal', async () => {
    const number = await placeOrder(agent, { offer: 'pack-5', terms: String(termsId) });
    const paypalOrderId = await pay(agent, portal, number);
    const back = await agent.get(pathOf(portal.simulator.cancel(paypalOrderId)));
    expect(back.headers.location).to.equal(`/topup?cancelled=${number}`);
    expect((await agent.get(back.headers.location as string)).text).to.include(`Paiement annulé (commande ${number}) : rien n&#39;a été débité.`);
    expect((await agent.get(`/orders/${number}`)).text).to.include('Annulée');
  });

  it('sends a second click on "Pay" to the same PayPal order', async () => {
    const number = await placeOrder(agent, { offer: 'pack-5', terms: String(termsId) });
    const first = await pay(agent, portal, number);
    expect(await pay(agent, portal, number)).to.equal(first);
  });
});
