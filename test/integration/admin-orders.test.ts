import { expect } from 'chai';
import supertest from 'supertest';
import type { OfferChoice } from '../../src/services/checkout/checkout.js';
import type { Order } from '../../src/domain/checkout/orders.js';
import type { User } from '../../src/domain/people/users.js';
import { testDialect } from '../helpers/database.js';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';
import { balanceOf, captureCredits, publishOffers, restorePayments } from '../helpers/topup.js';

type Agent = ReturnType<typeof supertest.agent>;

/** French Intl output uses narrow no-break spaces and EJS escapes apostrophes; compare with plain text. */
const plain = (text: string) => text.replace(/[\u202f\u00a0]/g, ' ').replaceAll('&#39;', "'");
/** The order numbers a list page shows, in order. */
const numbersIn = (html: string) => [...html.matchAll(/<th scope="row"><a href="\/admin\/orders\/(R-\d{4}-\d{6})">/g)].map((match) => match[1]);
const HOUR = 3600_000;

describe(`administration: orders (${testDialect})`, () => {
  let portal: TestPortal;
  let termsId: number;
  let people: Record<'alice' | 'alicia' | 'alUnderscore' | 'bob', User>;
  const orders: Record<string, Order> = {};

  /** A fresh login each time: the tests move the clock past the session's lifetime. */
  async function admin(language = 'fr'): Promise<Agent> {
    const agent = supertest.agent(portal.app);
    await logIn(agent, 'gestion', 'admin-password', { 'Accept-Language': language });
    return agent;
  }

  async function order(user: User, choice: OfferChoice): Promise<Order> {
    return portal.checkout.placeOrder(user, choice, termsId, 'fr');
  }
  async function sentToPayPal(user: User, choice: OfferChoice): Promise<Order> {
    const placed = await order(user, choice);
    await portal.checkout.startOrderPayment(placed, 'fr');
    return portal.checkout.ownOrder(user, { id: placed.id });
  }
  async function paid(user: User, choice: OfferChoice): Promise<Order> {
    const sent = await sentToPayPal(user, choice);
    portal.simulator.approve(sent.paypalOrderId!);
    await portal.checkout.completeReturn(user, sent.paypalOrderId);
    await portal.simulator.flushWebhooks();
    return portal.checkout.ownOrder(user, { id: sent.id });
  }
  const auditRows = () => portal.db.knex('audit_log').orderBy('id');

  before(async () => {
    portal = await createTestPortal();
    termsId = await publishOffers(portal);
    await portal.addUser('gestion', 'admin-password', { role: 'admin' });
    people = {
      alice: await portal.addUser('alice', 'alice-password'),
      alicia: await portal.addUser('alicia', 'alicia-password'),
      alUnderscore: await portal.addUser('al_x', 'al-x-password'),
      bob: await portal.addUser('bob', 'bob-password'),
    };
    // 2026-11-23 10:00 UTC: the 23rd in Paris.
    orders.alicePaid = await paid(people.alice, { packId: 'pack-10' });
    portal.clock.advance(24 * HOUR); // the 24th
    orders.bobCreated = await order(people.bob, { packId: 'pack-20' });
    portal.clock.advance(24 * HOUR); // the 25th
    orders.aliciaAwaiting = await sentToPayPal(people.alicia, { amount: '12,50' });
    portal.clock.advance(12 * HOUR + 30 * 60_000); // 22:30 UTC on the 25th: 23:30 in Paris, still the 25th
    orders.alUnderscoreLate = await order(people.alUnderscore, { packId: 'pack-5' });
    portal.clock.advance(HOUR); // 23:30 UTC: the 26th in Paris
    orders.bobNextDay = await order(people.bob, { packId: 'pack-50' });
  });
  afterEach(() => restorePayments(portal));
  after(() => portal.cleanup());

  describe('the list', () => {
    it('shows every order newest first with its number, date, person, amount, units, status and PayPal order id', async () => {
      const page = plain((await (await admin()).get('/admin/orders').expect(200)).text);
      expect(numbersIn(page)).to.deep.equal([orders.bobNextDay, orders.alUnderscoreLate, orders.aliciaAwaiting, orders.bobCreated, orders.alicePaid].map((o) => o!.number));
      expect(page).to.include('5 commandes');
      const row = page.slice(page.indexOf(`/admin/orders/${orders.alicePaid!.number}`), page.indexOf('</tr>', page.indexOf(`/admin/orders/${orders.alicePaid!.number}`)));
      expect(row).to.include('href="/admin/people/alice"').and.include('10,00 €').and.include('10,00').and.include('Payée').and.include(orders.alicePaid!.paypalOrderId!);
      expect(row).to.include('23 nov. 2026');
      const awaiting = page.slice(page.indexOf(`/admin/orders/${orders.aliciaAwaiting!.number}`));
      expect(awaiting).to.include('12,50 €').and.include('En attente de paiement');
      expect(page).to.include('<div class="table-scroll">').and.include('<th scope="col">');
    });

    it('narrows by status', async () => {
      const agent = await admin();
      expect(numbersIn((await agent.get('/admin/orders?status=created').expect(200)).text)).to.deep.equal([orders.bobNextDay, orders.alUnderscoreLate, orders.bobCreated].map((o) => o!.number));
      expect(numbersIn((await agent.get('/admin/orders?status=paid').expect(200)).text)).to.deep.equal([orders.alicePaid!.number]);
      const none = plain((await agent.get('/admin/orders?status=refunded').expect(200)).text);
      expect(numbersIn(none)).to.deep.equal([]);
      expect(none).to.include('Aucune commande ne correspond à ces critères.').and.include('<option value="refunded" selected>Remboursée</option>');
    });

    it('narrows by days in the portal time zone, the last day included', async () => {
      const agent = await admin();
      const between = async (query: string) => numbersIn((await agent.get(`/admin/orders?${query}`).expect(200)).text);
      expect(await between('from=2026-11-24&to=2026-11-24')).to.deep.equal([orders.bobCreated!.number]);
      // 23:30 in Paris on the 25th is 22:30 UTC: the 25th, not the 26th.
      expect(await between('from=2026-11-25&to=2026-11-25')).to.deep.equal([orders.alUnderscoreLate, orders.aliciaAwaiting].map((o) => o!.number));
      expect(await between('from=2026-11-26')).to.deep.equal([orders.bobNextDay!.number]);
      expect(await between('to=2026-11-23')).to.deep.equal([orders.alicePaid!.number]);
      expect(await between('from=2026-11-27')).to.deep.equal([]);
    });

    it('narrows by person: the exact username or its beginning, with _ taken literally', async () => {
      const agent = await admin();
      const of = async (person: string) => numbersIn((await agent.get(`/admin/orders?person=${encodeURIComponent(person)}`).expect(200)).text);
      expect(await of('alice')).to.deep.equal([orders.alicePaid!.number]);
      expect(await of('ALI')).to.deep.equal([orders.aliciaAwaiting, orders.alicePaid].map((o) => o!.number));
      expect(await of('al_')).to.deep.equal([orders.alUnderscoreLate!.number]);
      expect(await of('bob')).to.deep.equal([orders.bobNextDay, orders.bobCreated].map((o) => o!.number));
    });

    it('narrows by amount, both bounds included, typed with a comma or a point', async () => {
      const agent = await admin();
      const of = async (query: string) => numbersIn((await agent.get(`/admin/orders?${query}`).expect(200)).text);
      expect(await of('min=12,50')).to.deep.equal([orders.bobNextDay, orders.aliciaAwaiting, orders.bobCreated].map((o) => o!.number));
      expect(await of('max=10')).to.deep.equal([orders.alUnderscoreLate, orders.alicePaid].map((o) => o!.number));
      expect(await of('min=10.00&max=12,5')).to.deep.equal([orders.aliciaAwaiting, orders.alicePaid].map((o) => o!.number));
    });

    it('combines filters', async () => {
      const agent = await admin();
      const of = async (query: string) => numbersIn((await agent.get(`/admin/orders?${query}`).expect(200)).text);
      expect(await of('person=bob&status=created&min=30')).to.deep.equal([orders.bobNextDay!.number]);
      expect(await of('person=al&from=2026-11-25&to=2026-11-25&status=created')).to.deep.equal([orders.alUnderscoreLate!.number]);
      expect(await of('person=al&from=2026-11-25&to=2026-11-25&status=created&max=4,99')).to.deep.equal([]);
    });

    it('refuses each bad filter value with 400 and a message next to the field, in French and in English, listing nothing', async () => {
      const cases: Array<[string, string, string]> = [
        ['status=lost', 'Choisissez un état dans la liste.', 'Choose a status from the list.'],
        ['from=2026-02-30', 'Indiquez une date au format AAAA-MM-JJ, par exemple 2026-11-24.', 'Enter a date as YYYY-MM-DD, for example 2026-11-24.'],
        ['to=9999-12-31', 'Indiquez une date au format AAAA-MM-JJ, par exemple 2026-11-24.', 'Enter a date as YYYY-MM-DD, for example 2026-11-24.'],
        ['to=24/11/2026', 'Indiquez une date au format AAAA-MM-JJ, par exemple 2026-11-24.', 'Enter a date as YYYY-MM-DD, for example 2026-11-24.'],
        ['from=2026-11-25&to=2026-11-24', 'La date de fin doit être postérieure ou égale à la date de début.', 'The end date must be on or after the start date.'],
        ['person=bob%20smith', 'Indiquez un identifiant ou son début (lettres, chiffres et . _ @ + -).', 'Enter a username or its beginning (letters, digits and . _ @ + -).'],
        ['min=douze', 'Indiquez un montant valide, par exemple 12,50.', 'Enter a valid amount, for example 12.50.'],
        ['max=-5', 'Indiquez un montant valide, par exemple 12,50.', 'Enter a valid amount, for example 12.50.'],
        ['min=20&max=10', 'Le montant maximum doit être supérieur ou égal au montant minimum.', 'The maximum amount must be greater than or equal to the minimum amount.'],
        ['status=paid&status=created', 'Choisissez un état dans la liste.', 'Choose a status from the list.'],
      ];
      const french = await admin('fr');
      const english = await admin('en');
      for (const [query, fr, en] of cases) {
        const page = plain((await french.get(`/admin/orders?${query}`).expect(400)).text);
        expect(page, query).to.include(fr).and.include('Corrigez les filtres signalés ci-dessous.').and.include('aria-invalid="true"');
        expect(numbersIn(page), query).to.deep.equal([]);
        const field = /^(\w+)=/.exec(query.split('&').pop()!)![1];
        expect(page, query).to.match(new RegExp(`aria-describedby="[^"]*${field}-error"`));
        expect(plain((await english.get(`/admin/orders?${query}`).set('Accept-Language', 'en').expect(400)).text), query).to.include(en);
      }
      await french.get('/admin/orders?page=0').expect(400);
      expect(await auditRows()).to.deep.equal([]);
    });
  });

  describe('paging', () => {
    it('shows 50 orders a page, newest first, and keeps the filters in the page links', async () => {
      const extra: string[] = [];
      // Each of another amount: the same offer again would bring back the open order.
      for (let index = 0; index < 52; index += 1) extra.push((await order(people.bob, { amount: String(2 + index) })).number);
      const agent = await admin();
      const first = (await agent.get('/admin/orders?person=bob&status=created').expect(200)).text;
      expect(numbersIn(first)).to.deep.equal(extra.slice(-50).reverse());
      expect(plain(first)).to.include('54 commandes').and.include('Page 1 sur 2');
      const next = /<a href="([^"]+)" rel="next">/.exec(first)![1]!.replaceAll('&amp;', '&');
      expect(new URL(next, portal.baseUrl).searchParams.toString()).to.equal('status=created&person=bob&page=2');
      const second = (await agent.get(next).expect(200)).text;
      expect(numbersIn(second)).to.deep.equal([...extra.slice(0, 2).reverse(), orders.bobNextDay!.number, orders.bobCreated!.number]);
      expect(second).to.include('rel="prev"').and.not.include('rel="next"');
      // A page past the end shows the last one.
      expect(numbersIn((await agent.get('/admin/orders?person=bob&status=created&page=9').expect(200)).text)).to.deep.equal(numbersIn(second));
    });
  });

  describe('an order', () => {
    it('answers 404 for an unknown or malformed number', async () => {
      const agent = await admin();
      await agent.get('/admin/orders/R-2026-999999').expect(404);
      await agent.get('/admin/orders/999999').expect(404);
      await agent.get('/admin/orders/R-2026-00001').expect(404);
    });

    it('shows the quote, the person, the timeline, PayPal ids, webhooks and the ledger postings', async () => {
      const order = orders.alicePaid!;
      const page = plain((await (await admin()).get(`/admin/orders/${order.number}`).expect(200)).text);
      expect(page).to.include(`Commande ${order.number}`).and.include('Pack pack-10').and.include('10,00 €').and.include('8,33 €').and.include('1,67 €');
      expect(page).to.include('TVA (20,00 %)').and.include('Version 1').and.include('10,00 unités');
      expect(page).to.include('href="/admin/people/alice"').and.include('Name of alice').and.include('alice@example.edu');
      expect(page).to.include(order.paypalOrderId!).and.include(order.paypalCaptureId!);
      const timeline = page.slice(page.indexOf('id="timeline-title"'), page.indexOf('</section>', page.indexOf('id="timeline-title"')));
      expect(timeline).to.include('Commande créée').and.include('À payer → En attente de paiement').and.include('En attente de paiement → Payée').and.include(`capture ${order.paypalCaptureId}`);
      const webhooks = page.slice(page.indexOf('id="webhooks-title"'), page.indexOf('</section>', page.indexOf('id="webhooks-title"')));
      const recorded = await portal.db.knex('webhook_events').where('order_id', order.id).pluck('event_id');
      expect(recorded.length).to.be.greaterThan(0);
      for (const eventId of recorded) expect(webhooks).to.include(eventId);
      expect(webhooks).to.include('PAYMENT.CAPTURE.COMPLETED');
      const postings = page.slice(page.indexOf('id="transactions-title"'), page.indexOf('</section>', page.indexOf('id="transactions-title"')));
      expect(postings).to.include(`paypal-capture:${order.paypalCaptureId}`).and.include('Rechargement').and.include('+10,00');
      expect(page).to.include('Rembourser via PayPal').and.include('Vérifier maintenant');
    });

    it('offers no refund and no check for an order never sent to PayPal, and refuses the check with 409', async () => {
      const order = orders.bobCreated!;
      const agent = await admin();
      const page = plain((await agent.get(`/admin/orders/${order.number}`).expect(200)).text);
      expect(page).to.include('Cette commande ne peut pas être remboursée (À payer).').and.not.include('Vérifier maintenant');
      const refused = await agent.post(`/admin/orders/${order.number}/check`).type('form').send({ _csrf: csrfTokenFrom(page) });
      expect(refused.status).to.equal(409);
      expect(plain(refused.text)).to.include("Cette commande n'a jamais été envoyée à PayPal : il n'y a rien à vérifier.");
      expect(await auditRows()).to.deep.equal([]);
    });

    it('is in English for English readers', async () => {
      const page = plain((await (await admin('en')).get(`/admin/orders/${orders.alicePaid!.number}`).set('Accept-Language', 'en').expect(200)).text);
      expect(page).to.include(`Order ${orders.alicePaid!.number}`).and.include('Order history').and.include('Awaiting payment').and.include('Refund through PayPal');
    });
  });

  describe('check with PayPal now', () => {
    it('credits, once, an order the buyer paid while every webhook was lost, and says what changed', async () => {
      portal.simulator.setWebhookUrl(null);
      const order = await sentToPayPal(people.alicia, { packId: 'pack-20' });
      portal.simulator.approve(order.paypalOrderId!);
      const before = await balanceOf(portal, people.alicia.id);
      const credits = await captureCredits(portal);
      const agent = await admin();
      const page = await agent.get(`/admin/orders/${order.number}`).expect(200);
      expect(plain(page.text)).to.include('En attente de paiement');

      const checked = await agent.post(`/admin/orders/${order.number}/check`).type('form').send({ _csrf: csrfTokenFrom(page.text) });
      expect(checked.status).to.equal(303);
      const after = plain((await agent.get(checked.headers.location as string).expect(200)).text);
      expect(after).to.include('Vérifié auprès de PayPal, la commande a été mise à jour. État : En attente de paiement → Payée.');
      expect(await balanceOf(portal, people.alicia.id)).to.equal(before + 2200);
      expect(await captureCredits(portal)).to.equal(credits + 1);
      const [audit] = await portal.db.knex('audit_log').where('action', 'order.check');
      expect(audit).to.include({ action: 'order.check', target: order.number, actor_username: 'gestion' });
      expect(JSON.parse(audit.before_json)).to.deep.equal({ status: 'awaiting_payment', refundedCents: 0, paypalCaptureId: null });
      expect(JSON.parse(audit.after_json)).to.include({ status: 'paid', refundedCents: 0 });

      const again = await agent.post(`/admin/orders/${order.number}/check`).type('form').send({ _csrf: csrfTokenFrom(after) });
      expect(plain((await agent.get(again.headers.location as string).expect(200)).text)).to.include('Vérifié auprès de PayPal : la commande était déjà à jour.');
      expect(await balanceOf(portal, people.alicia.id)).to.equal(before + 2200);
      expect(await captureCredits(portal)).to.equal(credits + 1);
      expect(await portal.db.knex('audit_log').where('action', 'order.check')).to.have.length(2);
    });

    it('answers 502 and changes nothing when PayPal cannot be reached', async () => {
      portal.simulator.setWebhookUrl(null);
      const order = await sentToPayPal(people.alice, { packId: 'pack-5' });
      portal.simulator.approve(order.paypalOrderId!);
      const audits = (await auditRows()).length;
      portal.simulator.setFault({ type: 'http500', times: 10, operation: 'any' }, { orderId: order.paypalOrderId! });
      const agent = await admin();
      const page = await agent.get(`/admin/orders/${order.number}`).expect(200);
      const response = await agent.post(`/admin/orders/${order.number}/check`).type('form').send({ _csrf: csrfTokenFrom(page.text) });
      expect(response.status).to.equal(502);
      expect(plain(response.text)).to.include("PayPal n'a pas pu être consulté. Rien n'a été modifié ; réessayez dans un instant.");
      expect((await portal.checkout.ownOrder(people.alice, { id: order.id })).status).to.equal('awaiting_payment');
      expect(await auditRows()).to.have.length(audits);
    });
  });

  describe('refund policy setting', () => {
    it("is 'refuse' until an admin changes it; the change is audited", async () => {
      const agent = await admin();
      const page = (await agent.get('/admin/orders').expect(200)).text;
      expect(page).to.match(/value="refuse" checked/);
      const saved = await agent.post('/admin/orders/settings').type('form').send({ _csrf: csrfTokenFrom(page), refundPolicy: 'allow_negative' });
      expect(saved.status).to.equal(303);
      const after = plain((await agent.get(saved.headers.location as string).expect(200)).text);
      expect(after).to.include('Règle de remboursement enregistrée.').and.match(/value="allow_negative" checked/);
      expect(await portal.db.knex('portal_settings').where('key', 'refund_policy').first()).to.deep.equal({ key: 'refund_policy', value: 'allow_negative' });
      const audit = (await auditRows()).pop();
      expect(audit).to.include({ action: 'settings.refund_policy', actor_username: 'gestion' });
      expect(JSON.parse(audit.before_json)).to.deep.equal({ policy: 'refuse' });
      expect(JSON.parse(audit.after_json)).to.deep.equal({ policy: 'allow_negative' });
      const back = await agent.post('/admin/orders/settings').type('form').send({ _csrf: csrfTokenFrom(after), refundPolicy: 'refuse' });
      expect(back.status).to.equal(303);
      expect((await portal.db.knex('portal_settings').where('key', 'refund_policy').first()).value).to.equal('refuse');
    });

    it('refuses a bad or missing value with 400 and a message, changing nothing', async () => {
      const agent = await admin();
      const page = (await agent.get('/admin/orders').expect(200)).text;
      const audits = (await auditRows()).length;
      const settings = await portal.db.knex('portal_settings').select();
      for (const value of ['always', '', undefined]) {
        const response = await agent.post('/admin/orders/settings').type('form').send({ _csrf: csrfTokenFrom(page), ...(value === undefined ? {} : { refundPolicy: value }) });
        expect(response.status, String(value)).to.equal(400);
        expect(plain(response.text)).to.include("Choisissez l'une des deux règles.").and.include('aria-describedby="policy-error"');
      }
      const english = await admin('en');
      const englishPage = (await english.get('/admin/orders').set('Accept-Language', 'en').expect(200)).text;
      const response = await english.post('/admin/orders/settings').set('Accept-Language', 'en').type('form').send({ _csrf: csrfTokenFrom(englishPage), refundPolicy: 'never' });
      expect(response.status).to.equal(400);
      expect(response.text).to.include('Choose one of the two policies.');
      expect(await portal.db.knex('portal_settings').select()).to.deep.equal(settings);
      expect(await auditRows()).to.have.length(audits);
    });
  });
});
