import { expect } from 'chai';
import supertest from 'supertest';
import { parseOrderNumber } from '../../src/domain/checkout/orders.js';
import { testDialect } from '../helpers/database.js';
import { csrfTokenFrom, logIn } from '../helpers/portal.js';
import { orderSentToPayPal, placeOrder, useShop, type Shop } from '../helpers/topup.js';

/** Intl puts narrow no-break spaces in French amounts; EJS escapes apostrophes. */
const plain = (html: string) => html.replace(/[\u202f\u00a0]/g, ' ').replaceAll('&#39;', "'");

describe(`the basket (${testDialect})`, () => {
  let shop: Shop;
  useShop((opened) => (shop = opened), { SELLER_NAME: 'Université Exemple', SELLER_ADDRESS: '1 rue des Imprimantes, 75005 Paris', SELLER_EMAIL: 'reprographie@example.edu' });

  const statusOf = async (number: string) => ((await shop.portal.db.knex('orders').where('id', parseOrderNumber(number)).first('status')) as { status: string }).status;

  it('says what the person gets and pays, VAT in small print, who sells, and what happens next, in both languages', async () => {
    const number = await placeOrder(shop.agent, { offer: 'pack-20', terms: String(shop.termsId) });
    const french = plain((await shop.agent.get(`/orders/${number}`).expect(200)).text);
    for (const text of ['Vous recevez', '22,00 unités', 'Recharger le compte avec 20,00 unités<br>Bonus offert : 2,00 unités', 'Vous payez', '20,00 €', 'Prix TTC. Dont TVA (20 %) : 3,33 € · Montant HT : 16,67 €', 'Vendu par Université Exemple · 1 rue des Imprimantes, 75005 Paris', 'href="mailto:reprographie@example.edu"', 'par carte bancaire sans compte PayPal', 'Payer avec PayPal']) {
      expect(french).to.include(text);
    }
    const english = plain((await shop.agent.get(`/orders/${number}`).set('Accept-Language', 'en').expect(200)).text);
    for (const text of ['You get', 'You pay', 'Price including VAT. Of which VAT (20%)', 'Sold by Université Exemple', 'Pay with PayPal']) {
      expect(english).to.include(text);
    }
  });

  it("shows PayPal's button with its mark, served from the portal itself", async () => {
    const number = await placeOrder(shop.agent, { offer: 'pack-10', terms: String(shop.termsId) });
    const page = (await shop.agent.get(`/orders/${number}`).expect(200)).text;
    expect(page).to.match(/<button type="submit" class="button button--paypal"><img src="\/assets\/paypal-monogram.svg" alt="" [^>]*><span>Payer avec PayPal<\/span><\/button>/);
    const mark = await supertest(shop.portal.app).get('/assets/paypal-monogram.svg').expect(200);
    expect(mark.headers['content-type']).to.match(/^image\/svg\+xml/);
  });

  it('"Retour" cancels an order not yet sent to PayPal and goes back to the offers; choosing again makes a new order', async () => {
    const number = await placeOrder(shop.agent, { offer: 'pack-5', terms: String(shop.termsId) });
    const page = (await shop.agent.get(`/orders/${number}`).expect(200)).text;
    expect(page).to.include(`action="/orders/${number}/back"`);
    const back = await shop.agent.post(`/orders/${number}/back`).type('form').send({ _csrf: csrfTokenFrom(page) }).expect(303);
    expect(back.headers.location).to.equal('/topup');
    expect(await statusOf(number)).to.equal('cancelled');
    const event = await shop.portal.db.knex('order_events').where('order_id', parseOrderNumber(number)).orderBy('id', 'desc').first('detail');
    expect(event.detail).to.equal('the buyer went back to the offers');
    const again = await placeOrder(shop.agent, { offer: 'pack-5', terms: String(shop.termsId) });
    expect(again).not.to.equal(number);
    expect(await statusOf(again)).to.equal('created');
  });

  it('leaves an order already sent to PayPal as it is: the buyer may be paying it in another tab', async () => {
    const { number } = await orderSentToPayPal(shop, { offer: 'pack-50' });
    const page = (await shop.agent.get(`/orders/${number}`).expect(200)).text;
    expect(page).not.to.include(`/orders/${number}/back`);
    expect(plain(page)).to.include('Continuer vers PayPal');
    const back = await shop.agent.post(`/orders/${number}/back`).type('form').send({ _csrf: csrfTokenFrom(page) }).expect(303);
    expect(back.headers.location).to.equal(`/orders/${number}`);
    expect(await statusOf(number)).to.equal('awaiting_payment');
  });

  it("refuses \"Retour\" without the form's token, or on another person's order, changing nothing", async () => {
    const number = await placeOrder(shop.agent, { offer: 'pack-10', terms: String(shop.termsId) });
    await shop.agent.post(`/orders/${number}/back`).type('form').send({}).expect(403);
    await shop.portal.addUser('dominique', 'another good long password');
    const other = supertest.agent(shop.portal.app);
    await logIn(other, 'dominique', 'another good long password');
    const token = csrfTokenFrom((await other.get('/topup').expect(200)).text);
    await other.post(`/orders/${number}/back`).type('form').send({ _csrf: token }).expect(404);
    expect(await statusOf(number)).to.equal('created');
  });
});
