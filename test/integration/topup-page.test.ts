import { expect } from 'chai';
import { getAccountByCode } from '../../src/db/ledger/ledger-repository.js';
import { SystemAccount } from '../../src/domain/ledger/ledger.js';
import { testDialect } from '../helpers/database.js';
import { csrfTokenFrom } from '../helpers/portal.js';
import { placeOrder, useShop, type Shop } from '../helpers/topup.js';

/** Intl puts narrow no-break spaces in French amounts ("20,00\u202f€"); compare with plain spaces. */
const plain = (html: string) => html.replace(/[\u202f\u00a0]/g, ' ');

/** The summary box's figures, by name (price, units, bonus, balanceAfter), and whether it is shown. */
function summaryOf(html: string): { shown: boolean; figures: Record<string, string> } {
  const box = /<section class="topup-summary"[\s\S]*?<\/section>/.exec(html)?.[0] ?? '';
  const figures = Object.fromEntries([...box.matchAll(/<dd data-summary="(\w+)">([^<]*)<\/dd>/g)].map((match) => [match[1], plain(match[2]!)]));
  return { shown: /<dl class="topup-summary__figures" data-summary-figures>/.test(box), figures };
}

describe(`the top-up page (${testDialect})`, () => {
  let shop: Shop;
  useShop((opened) => (shop = opened));

  let csrf: string;
  before(async () => {
    // 12,34 units on Camille's account, so that the balance and the balance after are not zero.
    const account = await shop.portal.ledger.userAccount(shop.camille.id);
    const topUps = await getAccountByCode(shop.portal.db.knex, SystemAccount.topUps);
    await shop.portal.ledger.post({ idempotencyKey: 'test:balance', kind: 'top_up', lines: [{ accountId: account.id, amount: 1234 }, { accountId: topUps.id, amount: -1234 }] });
    csrf = csrfTokenFrom((await shop.agent.get('/topup').expect(200)).text);
  });

  const post = (fields: Record<string, string>) => shop.agent.post('/topup').type('form').send({ _csrf: csrf, ...fields });
  const ordersCount = async () => (await shop.portal.db.knex('orders')).length;
  const priceOf = async (number: string) => (await shop.portal.checkout.ownOrder(shop.camille, { id: Number(number.slice(-6)) })).priceCents;

  it('shows the balance at the top, and the bonus tiers on the "Other amount" card', async () => {
    const page = plain((await shop.agent.get('/topup').expect(200)).text);
    expect(page).to.match(/<h1>[^<]*<\/h1>\s*<p class="balance topup-balance">\s*<span class="balance__label">Votre solde actuel<\/span>\s*<strong class="balance__value" data-balance="1234">12,34 unités<\/strong>/);
    const otherCard = /<label class="offer offer--free">[\s\S]*?<\/label>/.exec(page)?.[0] ?? '';
    expect(otherCard).to.include('+5 % d&#39;unités offertes dès 20,00 €').and.include('+10 % d&#39;unités offertes dès 50,00 €');
    expect(summaryOf(page).shown, 'no summary before a choice').to.equal(false);
  });

  it('reads "25", "25,5", "25,50 €", "25.50" and "€25.50" alike, and still refuses garbage', async () => {
    const number = await placeOrder(shop.agent, { offer: 'free', amount: '25,50 €', terms: String(shop.termsId) });
    expect(await priceOf(number)).to.equal(2550);
    // The same amount again, written otherwise, is the same order still waiting for payment.
    for (const amount of ['25.50', '€25.50', '25,5', '  25,50\u00a0€ ']) {
      expect(await placeOrder(shop.agent, { offer: 'free', amount, terms: String(shop.termsId) }), amount).to.equal(number);
    }
    expect(await priceOf(await placeOrder(shop.agent, { offer: 'free', amount: '25', terms: String(shop.termsId) }))).to.equal(2500);
    const before = await ordersCount();
    for (const amount of ['25,50 € 3', '25 $', '-25 €', '1,234', '25,505']) {
      const response = await post({ offer: 'free', amount, terms: String(shop.termsId) }).expect(400);
      expect(plain(response.text), amount).to.include('Indiquez un montant valide, par exemple 12,50.');
    }
    expect(await ordersCount()).to.equal(before);
  });

  it('takes an amount typed without choosing "Other amount" as that amount', async () => {
    const number = await placeOrder(shop.agent, { amount: '30', terms: String(shop.termsId) });
    expect(await priceOf(number)).to.equal(3000);
    // Out of range, the page says so about the amount (not "choose an amount"), with "Other amount" chosen.
    const page = plain((await post({ amount: '500', terms: String(shop.termsId) }).expect(400)).text);
    expect(page).to.include('Le montant doit être compris entre 2,00 € et 150,00 €.').and.not.include('Choisissez un montant.');
    expect(page).to.match(/<input type="radio" name="offer" value="free" checked/);
  });

  it('charges neither a chosen pack nor an amount typed beside it, and asks which one', async () => {
    const before = await ordersCount();
    const response = await post({ offer: 'pack-10', amount: '25', terms: String(shop.termsId) }).expect(400);
    const page = plain(response.text);
    expect(page).to.include('Vous avez choisi une offre mais aussi saisi « 25 » dans « Autre montant » : lequel voulez-vous ? Rien n&#39;a été commandé.');
    // The pack stays chosen and is what the summary shows; the amount's field, hidden behind it, is emptied.
    expect(page).to.match(/value="pack-10"[^>]* checked/);
    expect(page).to.match(/<input id="amount" name="amount" value=""/);
    expect(summaryOf(page).figures.price).to.equal('10,00 €');
    expect(await ordersCount()).to.equal(before);
    // Sent again as it is now shown, it is the pack.
    expect(await priceOf(await placeOrder(shop.agent, { offer: 'pack-10', amount: '', terms: String(shop.termsId) }))).to.equal(1000);
  });

  it('redoes the summary on the server when asked, without the script, ordering nothing', async () => {
    const before = await ordersCount();
    const free = plain((await post({ offer: 'free', amount: '25,50 €', terms: String(shop.termsId), summary: '1' }).expect(200)).text);
    expect(summaryOf(free)).to.deep.equal({ shown: true, figures: { price: '25,50 €', units: '25,50 unités', bonus: '1,27 unité', balanceAfter: '39,11 unités' } });
    expect(free, 'the terms stay accepted').to.match(/name="terms" value="\d+" checked/);
    expect(free).to.not.include('Corrigez les points signalés');
    const pack = plain((await post({ offer: 'pack-20', summary: '1' }).expect(200)).text);
    expect(summaryOf(pack)).to.deep.equal({ shown: true, figures: { price: '20,00 €', units: '20,00 unités', bonus: '2,00 unités', balanceAfter: '34,34 unités' } });
    expect(pack, 'no terms asked for to see the summary').to.not.include('Vous devez accepter');
    const offStep = plain((await post({ offer: 'free', amount: '25,25', summary: '1' }).expect(400)).text);
    expect(offStep).to.include('Le montant doit être un multiple de 0,50 €.');
    expect(summaryOf(offStep).shown).to.equal(false);
    // A page sent back for a missing box shows the summary too.
    const noTerms = plain((await post({ offer: 'pack-50' }).expect(400)).text);
    expect(noTerms).to.include('Vous devez accepter les conditions générales de vente.');
    expect(summaryOf(noTerms).figures).to.include({ price: '50,00 €', bonus: '7,50 unités' });
    expect(await ordersCount()).to.equal(before);
  });

  it('loads the summary script from the portal, under its nonce, in English too', async () => {
    const page = await shop.agent.get('/topup').set('Accept-Language', 'en').expect(200);
    const nonce = /'nonce-([^']+)'/.exec(page.headers['content-security-policy'] as string)?.[1];
    expect(page.text).to.include(`<script src="/assets/topup-summary.js" nonce="${nonce}" defer></script>`);
    expect(page.text).to.include('data-units-one="{value} unit"').and.include('data-bonus-tiers="2000:500 5000:1000"').and.include('Your current balance');
    const script = await shop.agent.get('/assets/topup-summary.js').expect(200);
    expect(script.headers['content-type']).to.match(/javascript/);
  });
});
