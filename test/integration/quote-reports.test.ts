import { expect } from 'chai';
import supertest from 'supertest';
import type { User } from '../../src/domain/people/users.js';
import { createQuotePayment } from '../../src/services/quotes/quote-payment.js';
import { createQuoteUnitsPayment } from '../../src/services/quotes/quote-units-payment.js';
import { expectDocumentsConsistent, expectLedgerConsistent, testDialect } from '../helpers/database.js';
import { createTestPortal, logIn, type TestPortal } from '../helpers/portal.js';
import { draftQuote, sentQuote } from '../helpers/quotes.js';
import { publishOffers } from '../helpers/topup.js';
import { asText } from '../helpers/downloads.js';

type Agent = ReturnType<typeof supertest.agent>;

const BOM = '\uFEFF';
const DAY_MS = 24 * 3600_000;
/** French amounts carry narrow no-break spaces. */
const plain = (text: string) => text.replace(/[\u00a0\u202f]/g, ' ');

/**
 * Quotes in the reports and beside the top-ups: on 2026-11-23 (Paris) the desk sends a thesis quote
 * to a customer without an account (paid through PayPal the next day, then refunded in part), sends
 * Camille a quote she pays in units at once, and drafts a poster quote with a 10 % line.
 */
describe(`administration: quotes in the reports, the dashboard and the orders list (${testDialect})`, function () {
  let portal: TestPortal;
  let camille: User;
  const known = { paypal: '', unitsPaid: '', draft: '', order: '', paypalOrderId: '', captureId: '', unitsTransactionId: 0 };

  const knex = () => portal.db.knex;
  /** A fresh admin login each time: the clock moved past the sessions' lifetime since the quotes were made. */
  async function admin(language = 'fr'): Promise<Agent> {
    const agent = supertest.agent(portal.app);
    expect((await logIn(agent, 'gestion', 'admin-password', { 'Accept-Language': language })).status).to.equal(303);
    return agent;
  }
  const quoteId = async (number: string) => Number((await knex()('quotes').where('number', number).first('id')).id);

  before(async () => {
    portal = await createTestPortal({ SELLER_EMAIL: 'reprographie@univ.example' });
    const termsId = await publishOffers(portal);
    await portal.addUser('gestion', 'admin-password', { role: 'admin' });
    await portal.addUser('accueil', 'desk-password');
    await knex()('users').where('username', 'accueil').update({ quote_desk: true });
    camille = await portal.addUser('camille', 'camille-password', { displayName: 'Camille Martin', email: 'camille.martin@example.edu' });
    const adjustments = Number((await knex()('accounts').where('code', 'system:adjustments').first('id')).id);
    await portal.ledger.post({ idempotencyKey: 'credit-camille', kind: 'adjustment', lines: [{ accountId: (await portal.ledger.userAccount(camille.id)).id, amount: 5000 }, { accountId: adjustments, amount: -5000 }] });
    const desk = supertest.agent(portal.app);
    expect((await logIn(desk, 'accueil', 'desk-password')).status).to.equal(303);

    // 2026-11-23 10:00 UTC, 11:00 in Paris: 3 × 12,50 € at 20 % and 3 × 3,33 € at 5,5 %, for someone without an account.
    known.paypal = await sentQuote(portal, desk, { name: 'Élise Bernard', email: 'elise.bernard@example.org' });
    portal.clock.advance(60_000);
    // The same lines for Camille, with a price in units (a column the desk's form may not offer yet), paid in units at once.
    known.unitsPaid = await draftQuote(portal, desk, { username: 'camille' });
    await knex()('quotes').where('number', known.unitsPaid).update({ units_price: 4000 });
    const page = await desk.get(`/desk/quotes/${known.unitsPaid}`).expect(200);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
    expect((await desk.post(`/desk/quotes/${known.unitsPaid}/send`).type('form').send({ _csrf: csrf })).status).to.equal(303);
    portal.clock.advance(60_000);
    const unitsPayment = createQuoteUnitsPayment({ db: portal.db, clock: portal.clock, timeZone: portal.config.i18n.timeZone });
    const { quote } = await unitsPayment.payWithUnits(camille, await quoteId(known.unitsPaid), termsId);
    known.unitsTransactionId = quote.paidLedgerTransactionId!;
    portal.clock.advance(60_000);
    // Two A1 posters at 20 % and their lamination at 10 %: a draft, never sent.
    known.draft = await draftQuote(portal, desk, {
      'description-0': 'Affiche A1',
      'quantity-0': '2',
      'unitPrice-0': '18,00',
      'description-1': 'Plastification',
      'quantity-1': '2',
      'unitPrice-1': '4,00',
      'vatRate-1': '10',
    });

    // The next day, 2026-11-24 at 11:00 in Paris: the thesis is paid through PayPal, then 10,00 € are refunded.
    portal.clock.advance(DAY_MS - 3 * 60_000);
    const payment = createQuotePayment({ db: portal.db, checkout: portal.checkout, clock: portal.clock, timeZone: portal.config.i18n.timeZone });
    const id = await quoteId(known.paypal);
    known.paypalOrderId = new URL(await payment.startPayment(id, termsId, 'fr')).searchParams.get('token')!;
    portal.simulator.approve(known.paypalOrderId);
    const { order } = await payment.completeReturn(known.paypalOrderId, { grantedQuoteIds: [id] });
    known.order = order.number;
    known.captureId = order.paypalCaptureId!;
    portal.clock.advance(60_000);
    portal.simulator.refundCapture(known.paypalOrderId, '10.00');
    await portal.simulator.flushWebhooks();
  });
  afterEach(async () => {
    await portal.documentFiles.idle();
    await expectLedgerConsistent(portal.db);
    await expectDocumentsConsistent(portal.db);
  });
  after(() => portal.cleanup());

  const FRENCH_HEADER = [
    'Devis',
    'Statut',
    'Client',
    'E-mail du client',
    'Code postal',
    'Créé le (Europe/Paris)',
    'Envoyé le (Europe/Paris)',
    'Payé le (Europe/Paris)',
    'Devise',
    'Montant TTC',
    'Montant HT',
    'TVA',
    'HT à 20 %',
    'TVA à 20 %',
    'HT à 10 %',
    'TVA à 10 %',
    'HT à 5,5 %',
    'TVA à 5,5 %',
    'Remboursé TTC',
    'Payé par',
    'Commande',
    'Commande PayPal',
    'Paiement PayPal',
    'Unités',
    'Transaction',
  ].join(';');
  // 37,50 € at 20 %: 31,25 + 6,25; 9,99 € at 5,5 %: 9,47 + 0,52. 36,00 € at 20 %: 30,00 + 6,00; 8,00 € at 10 %: 7,27 + 0,73.
  const paypalRow = () =>
    `${known.paypal};Remboursé en partie;Élise Bernard;elise.bernard@example.org;75 005;2026-11-23 11:00:00;2026-11-23 11:00:00;2026-11-24 11:00:00;EUR;47,49;40,72;6,77;31,25;6,25;;;9,47;0,52;10,00;PayPal;${known.order};${known.paypalOrderId};${known.captureId};;`;
  const unitsRow = () =>
    `${known.unitsPaid};Payé;Camille Martin;camille.martin@example.edu;75 005;2026-11-23 11:01:00;2026-11-23 11:01:00;2026-11-23 11:02:00;EUR;47,49;40,72;6,77;31,25;6,25;;;9,47;0,52;0,00;Unités;;;;40,00;${known.unitsTransactionId}`;
  const draftRow = () => `${known.draft};Brouillon;Camille Martin;camille.martin@example.edu;75 005;2026-11-23 11:03:00;;;EUR;44,00;37,27;6,73;30,00;6,00;7,27;0,73;;;;;;;;;`;

  describe('the quotes export', () => {
    it('has a row per quote made in the range, with the net and VAT of every rate in columns of their own, and how each was paid', async () => {
      const before = await knex()('audit_log').count({ total: '*' }).first();
      const response = await asText((await admin()).get('/admin/reports/quotes.csv?from=2026-11-23&to=2026-11-23&by=created')).expect(200);
      expect(response.headers['content-type']).to.equal('text/csv; charset=utf-8');
      expect(response.headers['content-disposition']).to.equal('attachment; filename="recharge-quotes-created-2026-11-23-2026-11-23.csv"');
      expect(response.headers['cache-control']).to.equal('no-store');
      expect(response.body).to.equal(`${BOM}${[FRENCH_HEADER, paypalRow(), unitsRow(), draftRow()].join('\r\n')}\r\n`);
      expect(Number((await knex()('audit_log').count({ total: '*' }).first())!.total)).to.equal(Number(before!.total) + 1);
      const entry = await knex()('audit_log').orderBy('id', 'desc').first();
      expect(entry).to.include({ actor_username: 'gestion', action: 'reports.export_quotes', target: '2026-11-23/2026-11-23' });
      expect(JSON.parse(entry.after_json)).to.deep.equal({ from: '2026-11-23', to: '2026-11-23', by: 'created' });
    });

    it('chooses quotes by the day they were paid when asked, with only the rates of those quotes as columns', async () => {
      const nextDay = await asText((await admin()).get('/admin/reports/quotes.csv?from=2026-11-24&to=2026-11-24&by=paid')).expect(200);
      const [header, ...rows] = (nextDay.body as string).split('\r\n');
      expect(header).to.equal(`${BOM}${FRENCH_HEADER.replace(';HT à 10 %;TVA à 10 %', '')}`);
      expect(rows).to.deep.equal([paypalRow().replace(';;;9,47', ';9,47'), '']);
      const firstDay = await asText((await admin()).get('/admin/reports/quotes.csv?from=2026-11-23&to=2026-11-23&by=paid')).expect(200);
      expect((firstDay.body as string).split('\r\n').slice(1)).to.deep.equal([unitsRow().replace(';;;9,47', ';9,47'), '']);
    });

    it('writes English headers, commas and decimal points for an English reader', async () => {
      const response = await asText((await admin('en')).get('/admin/reports/quotes.csv?from=2026-11-24&to=2026-11-24&by=paid').set('Accept-Language', 'en')).expect(200);
      const [header, row] = (response.body as string).split('\r\n');
      expect(header).to.equal(
        `${BOM}Quote,Status,Customer,Customer e-mail,Postcode,Created (Europe/Paris),Sent (Europe/Paris),Paid (Europe/Paris),Currency,Amount incl. VAT,Net amount,VAT,Net at 20%,VAT at 20%,Net at 5.5%,VAT at 5.5%,Refunded incl. VAT,Paid with,Order,PayPal order,PayPal capture,Units,Transaction`,
      );
      expect(row).to.equal(
        `${known.paypal},Partly refunded,Élise Bernard,elise.bernard@example.org,75 005,2026-11-23 11:00:00,2026-11-23 11:00:00,2026-11-24 11:00:00,EUR,47.49,40.72,6.77,31.25,6.25,9.47,0.52,10.00,PayPal,${known.order},${known.paypalOrderId},${known.captureId},,`,
      );
    });

    it('refuses a date that is neither the creation nor the payment date, in the reader\'s language, exporting nothing', async () => {
      const before = await knex()('audit_log').count({ total: '*' }).first();
      const response = await (await admin()).get('/admin/reports/quotes.csv?from=2026-11-23&to=2026-11-23&by=sent').expect(400);
      expect(response.headers['content-type']).to.match(/^text\/html/);
      expect(response.text).to.include('Choisissez la date de création ou la date de paiement.');
      expect(await knex()('audit_log').count({ total: '*' }).first()).to.deep.equal(before);
    });

    it('offers the export beside the transactions, with the date the quotes are chosen by', async () => {
      const page = (await (await admin()).get('/admin/reports?from=2026-11-23&to=2026-11-24&by=paid').expect(200)).text;
      expect(page).to.include('formaction="/admin/reports/quotes.csv"').and.include('Télécharger les devis (CSV)');
      expect(page).to.match(/<option value="paid" selected>date de paiement<\/option>/);
    });
  });

  describe('beside the top-ups', () => {
    it('keeps quote payments out of the top-ups on the dashboard and shows them as their own figure', async () => {
      const page = plain((await (await admin()).get('/admin').expect(200)).text);
      const section = (id: string) => page.slice(page.indexOf(`id="${id}"`), page.indexOf('</section>', page.indexOf(`id="${id}"`)));
      expect(section('topups-today')).to.include('Aucune recharge payée.');
      expect(section('topups-month')).to.include('Aucune recharge payée.');
      expect(section('quotes-month')).to.include('47,49 €').and.include('1 devis').and.include('dont TVA 6,77 €').and.include('remboursé 10,00 €');
    });

    it('leaves quote payments out of the top-ups chart', async () => {
      const svg = plain((await asText((await admin()).get('/admin/reports/top-ups.svg?from=2026-11-23&to=2026-11-24')).expect(200)).body as string);
      expect(svg).to.include('0 recharge payée pour 0,00 € au total.');
    });

    it('lists the quote order among the orders, with its customer and quote instead of a person, and links its page to the quote', async () => {
      const agent = await admin();
      const page = plain((await agent.get('/admin/orders').expect(200)).text);
      expect(page).to.include('1 commande');
      const row = page.slice(page.indexOf(`/admin/orders/${known.order}`), page.indexOf('</tr>', page.indexOf(`/admin/orders/${known.order}`)));
      expect(row).to.include('Élise Bernard').and.include(`Devis <a href="/desk/quotes/${known.paypal}">${known.paypal}</a>`).and.include('47,49 €').and.include('Partiellement remboursée');
      // Filtering by person looks at usernames: a quote's order has none.
      expect(plain((await agent.get('/admin/orders?person=camille').expect(200)).text)).to.include('0 commande');
      // The desk's pages go by quote number.
      expect((await agent.get(`/admin/orders/${known.order}`).expect(200)).text).to.include(`<a href="/desk/quotes/${known.paypal}">${known.paypal}</a>`);
    });

    it('exports the units that paid a quote as a transaction of the person, and no transaction for the PayPal payment', async () => {
      const response = await asText((await admin()).get('/admin/reports/transactions.csv?from=2026-11-23&to=2026-11-24')).expect(200);
      const rows = (response.body as string).split('\r\n').slice(1, -1);
      expect(rows.map((row) => row.split(';').slice(1, 6))).to.deep.equal([
        [String((await knex()('ledger_transactions').where('idempotency_key', 'credit-camille').first('id')).id), 'Ajustement manuel', 'camille', 'Camille Martin', '50,00'],
        [String(known.unitsTransactionId), 'Paiement de devis en unités', 'camille', 'Camille Martin', '-40,00'],
      ]);
    });
  });
});
