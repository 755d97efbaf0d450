import { expect } from 'chai';
import supertest from 'supertest';
import { formatDateTime } from '../../src/i18n/format.js';
import { listTransfers } from '../../src/db/credit-transfers/transfer-repository.js';
import type { Locale } from '../../src/domain/shared/locale.js';
import { testDialect } from '../helpers/database.js';
import { csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';
import { BUYER_PASSWORD, orderSentToPayPal, pathOf, placeOrder, useShop, type Shop } from '../helpers/topup.js';

type Agent = ReturnType<typeof supertest.agent>;

/** The page's text as read: Intl's narrow spaces as plain ones, EJS's escapes undone. */
const readable = (html: string) =>
  html
    .replace(/[\u202f\u00a0]/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');

/** A person of the portal, signed in through an agent of their own. */
async function signedIn(portal: TestPortal, username: string): Promise<Agent> {
  await portal.addUser(username, BUYER_PASSWORD);
  const agent = supertest.agent(portal.app);
  await logIn(agent, username, BUYER_PASSWORD);
  return agent;
}

/** Runs `test` while the PaperCut simulator is stopped, then starts it again where the portal reaches it. */
async function whilePaperCutDown<T>(portal: TestPortal, test: () => Promise<T>): Promise<T> {
  const papercut = portal.papercut!;
  const port = Number(new URL(papercut.url).port);
  await papercut.stop();
  try {
    return await test();
  } finally {
    await papercut.start(port);
  }
}

/** Sends the top-up form as a person would; the response as it comes. */
async function sendTopUp(agent: Agent, shop: Shop, offer: string, language: Locale = 'fr') {
  const form = await agent.get('/topup').set('Accept-Language', language).expect(200);
  return agent.post('/topup').set('Accept-Language', language).type('form').send({ _csrf: csrfTokenFrom(form.text), offer, terms: String(shop.termsId) });
}

const ordersOf = async (portal: TestPortal, username: string) => portal.db.knex('orders').join('users', 'users.id', 'orders.user_id').where('users.username', username).select('orders.*');

describe(`what people see when credits go to PaperCut (${testDialect})`, () => {
  let shop: Shop;
  useShop((opened) => (shop = opened), {}, { papercut: { users: { camille: 1250 } } });
  const when = (date: Date, locale: Locale = 'fr') => formatDateTime(date, locale, shop.portal.config.i18n.timeZone);

  it('shows the PaperCut balance as the one printing draws on, and names the portal credit apart, in French and in English', async () => {
    const page = readable((await shop.agent.get('/account').expect(200)).text);
    expect(page).to.include('Solde PaperCut').and.include('data-print-balance="1250"').and.include('12,50 unités');
    expect(page).to.include('Solde tenu par ce portail (recharges, crédits et remboursements, hors impressions) : 0,00 unité').and.not.include('Compte principal');
    expect(page).to.include('aria-labelledby="summary-balance"').and.include('id="summary-balance">Solde PaperCut<');
    const english = readable((await shop.agent.get('/account').set('Accept-Language', 'en').expect(200)).text);
    expect(english).to.include('PaperCut balance').and.include('12.50 units').and.include('Balance kept by this portal (top-ups, credits and refunds, without printing): 0.00 units');
  });

  it('shows the last value PaperCut gave, with its time, once it stops answering; a balance never read is unavailable', async () => {
    const { portal, agent } = shop;
    portal.clock.advance(portal.config.credits.balanceCacheSeconds * 1000 + 1000);
    await agent.get('/account').expect(200); // read again now: the value the outage will show
    const lastRead = portal.clock.now();
    portal.clock.advance(portal.config.credits.balanceCacheSeconds * 1000 + 1000);
    const newcomer = await signedIn(portal, 'dominique');
    await whilePaperCutDown(portal, async () => {
      const page = readable((await agent.get('/account').expect(200)).text);
      expect(page).to.include('12,50 unités').and.include(`PaperCut ne répond pas : dernière valeur connue le ${when(lastRead)}.`);
      const english = readable((await agent.get('/account').set('Accept-Language', 'en').expect(200)).text);
      expect(english).to.include(`PaperCut is not answering: last known value on ${when(lastRead, 'en')}.`);
      const never = readable((await newcomer.get('/account').expect(200)).text);
      expect(never).to.include('Solde PaperCut').and.include('PaperCut ne répond pas : votre solde est indisponible pour le moment.').and.not.include('data-print-balance');
    });
    portal.clock.advance(portal.config.credits.balanceCacheSeconds * 1000 + 1000);
    const back = readable((await agent.get('/account').expect(200)).text);
    expect(back).to.include('12,50 unités').and.not.include('ne répond pas');
  });

  it('says on the top-up page where the units go', async () => {
    expect(readable((await shop.agent.get('/topup').expect(200)).text)).to.include('Les unités sont créditées sur votre compte PaperCut.');
    expect(readable((await shop.agent.get('/topup').set('Accept-Language', 'en').expect(200)).text)).to.include('The units are credited to your PaperCut account.');
  });

  it('refuses a top-up from a person PaperCut does not know, in their language, before any order exists', async () => {
    const { portal } = shop;
    const stranger = await signedIn(portal, 'sacha');
    const french = await sendTopUp(stranger, shop, 'pack-10');
    expect(french.status).to.equal(409);
    expect(readable(french.text)).to.include("Votre compte n'existe pas dans PaperCut : contactez le support avant de recharger. Rien n'a été débité.");
    expect(french.text).to.match(/value="pack-10"[^>]* checked/); // the form as it was sent
    const english = await sendTopUp(stranger, shop, 'pack-10', 'en');
    expect(english.status).to.equal(409);
    expect(readable(english.text)).to.include('Your account does not exist in PaperCut: contact support before topping up. Nothing was charged.');
    expect(await ordersOf(portal, 'sacha')).to.deep.equal([]);
  });

  it('refuses to pay an order whose person was removed from PaperCut since placing it, and asks PayPal for nothing', async () => {
    const { portal, termsId } = shop;
    portal.papercut!.setBalance('eli', 0);
    const agent = await signedIn(portal, 'eli');
    const number = await placeOrder(agent, { offer: 'pack-10', terms: String(termsId) });
    portal.papercut!.removeUser('eli');
    const page = await agent.get(`/orders/${number}`).expect(200);
    const refused = await agent.post(`/orders/${number}/pay`).type('form').send({ _csrf: csrfTokenFrom(page.text) });
    expect(refused.status).to.equal(409);
    expect(readable(refused.text)).to.include("Votre compte n'existe pas dans PaperCut");
    const [order] = await ordersOf(portal, 'eli');
    expect(order).to.include({ status: 'created', paypal_order_id: null });
  });

  it('lets a person top up while PaperCut does not answer (the transfer will wait), and logs that it could not tell', async () => {
    const { portal } = shop;
    const agent = await signedIn(portal, 'fanny');
    await whilePaperCutDown(portal, async () => {
      const placed = await sendTopUp(agent, shop, 'pack-10');
      expect(placed.status, placed.text.slice(0, 300)).to.equal(303);
    });
    expect(await ordersOf(portal, 'fanny')).to.have.length(1);
    expect(portal.logs.some((line) => line.level === 40 && String(line.msg).startsWith('the print system could not say whether the person has an account'))).to.equal(true);
  });

  it("shows an order's credit on its way, then credited in PaperCut, and a refund's take-back the same way", async () => {
    const { portal, agent } = shop;
    const { number, paypalOrderId } = await orderSentToPayPal(shop, { offer: 'pack-50' });
    await agent.get(pathOf(portal.simulator.approve(paypalOrderId)));
    const paid = readable((await agent.get(`/orders/${number}`).expect(200)).text);
    expect(paid).to.include('<h2>Dans PaperCut</h2>').and.include('<dt>Crédit de 57,50 unités</dt><dd>En cours de transfert vers PaperCut</dd>');

    await portal.printSystem!.delivery.deliverDue();
    const credited = readable((await agent.get(`/orders/${number}`).expect(200)).text);
    expect(credited).to.include(`<dd>Crédité dans PaperCut le ${when(portal.clock.now())}</dd>`).and.not.include('En cours de transfert');
    const english = readable((await agent.get(`/orders/${number}`).set('Accept-Language', 'en').expect(200)).text);
    expect(english).to.include('<h2>In PaperCut</h2>').and.include(`<dt>Credit of 57.50 units</dt><dd>Credited in PaperCut on ${when(portal.clock.now(), 'en')}</dd>`);

    portal.simulator.refundCapture(paypalOrderId);
    await portal.simulator.flushWebhooks();
    const refunded = readable((await agent.get(`/orders/${number}`).expect(200)).text);
    expect(refunded).to.include('<dt>Reprise de 57,50 unités</dt><dd>En cours de transfert vers PaperCut</dd>');
    await portal.printSystem!.delivery.deliverDue();
    const takenBack = readable((await agent.get(`/orders/${number}`).expect(200)).text);
    expect(takenBack).to.include(`<dt>Crédit de 57,50 unités</dt><dd>Crédité dans PaperCut le ${when(portal.clock.now())}</dd>`);
    expect(takenBack).to.include(`<dt>Reprise de 57,50 unités</dt><dd>Débité dans PaperCut le ${when(portal.clock.now())}</dd>`);
  });

  it('says an administrator has a transfer PaperCut refused, never its error', async () => {
    const { portal, agent } = shop;
    const { number, paypalOrderId } = await orderSentToPayPal(shop, { offer: 'pack-5' });
    await agent.get(pathOf(portal.simulator.approve(paypalOrderId)));
    portal.papercut!.setFault({ type: 'unknown_user', method: 'api.adjustUserAccountBalance' });
    try {
      expect((await portal.printSystem!.delivery.deliverDue()).parked).to.equal(1);
    } finally {
      portal.papercut!.clearFaults();
    }
    const parked = (await listTransfers(portal.db.knex, { state: 'parked', offset: 0, limit: 10 })).transfers;
    expect(parked).to.have.length(1);
    const page = readable((await agent.get(`/orders/${number}`).expect(200)).text);
    expect(page).to.include("<dd>Transfert vers PaperCut en attente d'un administrateur</dd>").and.not.include(parked[0]!.lastError!);
  });
});

describe(`the same pages when credits stay in the portal (${testDialect})`, () => {
  let shop: Shop;
  useShop((opened) => (shop = opened));

  it('say nothing of a print system', async () => {
    const { portal, agent } = shop;
    const account = readable((await agent.get('/account').expect(200)).text);
    expect(account).to.include('Compte principal').and.include('data-balance="0"').and.not.include('data-print-balance');
    const { number, paypalOrderId } = await orderSentToPayPal(shop);
    await agent.get(pathOf(portal.simulator.approve(paypalOrderId)));
    const pages = [account, (await agent.get('/topup').expect(200)).text, (await agent.get(`/orders/${number}`).expect(200)).text];
    for (const page of pages.map(readable)) {
      expect(page).to.not.match(/PaperCut|système d'impression|ce portail/);
    }
  });
});
