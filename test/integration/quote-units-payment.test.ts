import path from 'node:path';
import { expect } from 'chai';
import ejs from 'ejs';
import supertest from 'supertest';
import { projectRoot } from '../../src/config.js';
import { checkLedger } from '../../src/db/ledger/ledger-check.js';
import { getAccountByCode } from '../../src/db/ledger/ledger-repository.js';
import { publishTerms } from '../../src/db/pricing/terms-repository.js';
import { SystemAccount } from '../../src/domain/ledger/ledger.js';
import type { User } from '../../src/domain/people/users.js';
import { formatUnits } from '../../src/i18n/format.js';
import { createTranslations, type Locale } from '../../src/i18n/index.js';
import { DEMO_TERMS } from '../../src/services/demo/demo.js';
import { expectLedgerConsistent, testDialect } from '../helpers/database.js';
import { formFields, withChanges } from '../helpers/html-form.js';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';
import { dayFromNow, draftQuote, sentQuote } from '../helpers/quotes.js';
import { publishOffers } from '../helpers/topup.js';
import { until } from '../helpers/waiting.js';

type Agent = ReturnType<typeof supertest.agent>;

const PASSWORD = 'a good long password';
/** What staff allow: the thesis (47,49 €) for 49,60 units. */
const PRICE = 4_960;
const FOR_ETUDIANT = { username: 'etudiant', unitsPrice: '49,60' };
/** The page's text as a reader sees it: EJS escapes quotes and ampersands; French amounts carry narrow no-break spaces. */
const readable = (html: string) => html.replace(/&#39;/g, "'").replace(/&#34;/g, '"').replace(/&amp;/g, '&').replace(/[\u00a0\u202f]/g, ' ');

describe(`quotes paid with print units (${testDialect})`, function () {
  let portal: TestPortal;
  let termsId: number;
  let etudiant: User;
  let desk: Agent;
  let student: Agent;
  let other: Agent;
  const translate = createTranslations();

  const knex = () => portal.db.knex;
  const quoteRow = (number: string) => knex()('quotes').where('number', number).first();
  const balance = async (user: User = etudiant) => (await portal.ledger.userAccount(user.id)).balance;
  /** Everything a refused payment or refund must leave as it was. */
  const written = async () => ({
    quotes: await knex()('quotes').orderBy('id').select('*'),
    events: await knex()('quote_events').orderBy('id').select('id'),
    transactions: await knex()('ledger_transactions').orderBy('id').select('id'),
    balances: await knex()('accounts').orderBy('id').select('id', 'balance'),
    orders: await knex()('orders').orderBy('id').select('id', 'status'),
    audit: await knex()('audit_log').orderBy('id').select('id'),
  });
  const loggedInAs = async (username: string) => {
    const agent = supertest.agent(portal.app);
    expect((await logIn(agent, username, PASSWORD)).status).to.equal(303);
    return agent;
  };
  /** Units given to the person by an adjustment, as an admin would. */
  let credits = 0;
  const credit = async (amount: number, user: User = etudiant) => {
    const system = await getAccountByCode(knex(), SystemAccount.adjustments);
    const account = await portal.ledger.userAccount(user.id);
    credits += 1;
    await portal.ledger.post({ idempotencyKey: `test-credit:${credits}`, kind: 'adjustment', lines: [{ accountId: account.id, amount }, { accountId: system.id, amount: -amount }] });
  };
  /** The person's balance set to exactly `amount`. */
  const setBalance = async (amount: number) => {
    const missing = amount - (await balance());
    if (missing !== 0) await credit(missing);
  };

  /** "Payer avec mes unités" as `agent` sends it: the session's CSRF token, the terms shown and the box ticked, unless `changes` say otherwise. */
  const payWithUnits = async (agent: Agent, number: string, changes: Record<string, string | undefined> = {}) => {
    const token = csrfTokenFrom((await agent.get('/account').expect(200)).text);
    const fields = withChanges({ _csrf: token, termsId: String(termsId), acceptTerms: 'on' }, changes);
    return agent.post(`/quotes/${number}/pay-with-units`).type('form').send(fields);
  };
  /** Refused: the quote's page with a 4xx (400 for the terms, 409 otherwise) and the problem's message, up to its first figure. */
  const expectProblem = (response: supertest.Response, number: string, problem: string) => {
    expect(response.status, problem).to.equal(problem === 'unitsTerms' ? 400 : 409);
    const message = translate('fr')(`quoteUnits.problems.${problem}`, { balance: '\u0000', price: '\u0000' }).split('\u0000')[0]!;
    expect(readable(response.text)).to.include(readable(message)).and.include(number);
  };
  const expectPaid = (response: supertest.Response, number: string) => {
    expect([response.status, response.headers.location], response.text.slice(0, 300)).to.deep.equal([303, `/quotes/${number}`]);
  };

  before(async () => {
    portal = await createTestPortal({ SELLER_NAME: 'Université Exemple', SELLER_EMAIL: 'reprographie@univ.example' });
    termsId = await publishOffers(portal);
    await portal.addUser('accueil', PASSWORD, { displayName: 'Accueil Repro' });
    await knex()('users').where('username', 'accueil').update({ quote_desk: true });
    etudiant = await portal.addUser('etudiant', PASSWORD, { displayName: 'Camille Martin' });
    await portal.addUser('autre', PASSWORD);
    await portal.addUser('gestion', PASSWORD, { role: 'admin' });
    desk = await loggedInAs('accueil');
    student = await loggedInAs('etudiant');
    other = await loggedInAs('autre');
  });
  afterEach(async () => {
    portal.simulator.clearFaults();
    await portal.simulator.flushWebhooks();
    await expectLedgerConsistent(portal.db);
  });
  after(() => portal.cleanup());

  it('pays once: the price in units taken from the balance in one ledger transaction, the quote paid, the history naming the quote in French and English', async () => {
    const number = await sentQuote(portal, desk, FOR_ETUDIANT);
    await setBalance(100_00);
    const transactionCount = async () => Number((await knex()('ledger_transactions').count({ count: '*' }).first())?.count);
    const transactionsBefore = await transactionCount();

    expectPaid(await payWithUnits(student, number), number);

    expect(await balance()).to.equal(100_00 - PRICE);
    expect(await transactionCount()).to.equal(transactionsBefore + 1);
    const quote = await quoteRow(number);
    const transaction = await knex()('ledger_transactions').where('idempotency_key', `quote-units:${quote.id}`).first();
    expect(transaction).to.include({ kind: 'quote_payment', description: number, created_by: etudiant.id });
    const entries = await knex()('ledger_entries as e').join('accounts as a', 'a.id', 'e.account_id').where('e.transaction_id', transaction.id).orderBy('a.code').select('a.code', 'e.amount');
    expect(entries.map((entry: { code: string; amount: unknown }) => [entry.code, Number(entry.amount)])).to.deep.equal([
      [SystemAccount.quotePayments, PRICE],
      [`user:${etudiant.id}`, -PRICE],
    ]);
    expect(quote).to.include({ status: 'paid', paid_ledger_transaction_id: transaction.id, paid_order_id: null });
    expect(quote.paid_at).not.to.equal(null);
    const event = await knex()('quote_events').where('quote_id', quote.id).orderBy('id', 'desc').first('type', 'from_status', 'to_status', 'actor_username', 'detail');
    expect(event).to.deep.equal({ type: 'paid_in_units', from_status: 'sent', to_status: 'paid', actor_username: 'etudiant', detail: '49.60' });

    const french = readable((await student.get('/account/history').set('Accept-Language', 'fr').expect(200)).text);
    expect(french).to.match(new RegExp(`Paiement du devis <span class="muted history__details">${number}</span>`)).and.include('−49,60');
    const english = readable((await student.get('/account/history').set('Accept-Language', 'en').expect(200)).text);
    expect(english).to.match(new RegExp(`Payment of quote <span class="muted history__details">${number}</span>`)).and.include('−49.60');

    const deskPage = readable((await desk.get(`/desk/quotes/${number}`).expect(200)).text);
    expect(deskPage).to.include('Paiement en unités').and.include('<dd id="units-price">49,60 unités</dd>').and.include('Payé en unités le').and.include('Envoyé → Payé');
    expect((await checkLedger(knex())).ok).to.equal(true);
  });

  it('refuses a balance below the price: nothing written, and the page is told why with the balance and the price', async () => {
    const number = await sentQuote(portal, desk, FOR_ETUDIANT);
    await setBalance(PRICE - 1);
    const before = await written();
    expectProblem(await payWithUnits(student, number), number, 'unitsInsufficient');
    expect(await written()).to.deep.equal(before);
    const message = (locale: Locale) => {
      const t = translate(locale);
      return t('quoteUnits.problems.unitsInsufficient', { balance: formatUnits(t, PRICE - 1, locale), price: formatUnits(t, PRICE, locale) });
    };
    expect(readable(message('fr'))).to.equal("Votre solde (49,59 unités) ne suffit pas pour payer ce devis (49,60 unités). Aucune unité n'a été débitée : rechargez votre compte, puis réessayez.");
    expect(readable(message('en'))).to.equal('Your balance (49.59 units) is not enough to pay this quote (49.60 units). No units were taken: top up your account, then try again.');
    // An account an admin allowed below zero is refused alike: the price is never paid on credit.
    await knex()('accounts').where('user_id', etudiant.id).update({ allow_negative: true });
    try {
      expectProblem(await payWithUnits(student, number), number, 'unitsInsufficient');
      expect(await written()).to.deep.equal(before);
    } finally {
      await knex()('accounts').where('user_id', etudiant.id).update({ allow_negative: false });
    }
  });

  it('answers 404 to anyone but the quote’s person, for a draft and for no quote at all; visitors are sent to log in; nothing written', async () => {
    const number = await sentQuote(portal, desk, FOR_ETUDIANT);
    const draft = await draftQuote(portal, desk, FOR_ETUDIANT);
    await setBalance(100_00);
    await credit(100_00, (await knex()('users').where('username', 'autre').first()) as User);
    const before = await written();
    for (const [agent, path] of [[other, number], [student, draft], [student, 'D-2026-999999'], [student, 'not-a-number']] as const) {
      const response = await payWithUnits(agent, path);
      expect(response.status, path).to.equal(404);
    }
    const visitor = supertest.agent(portal.app);
    const visitorToken = csrfTokenFrom((await visitor.get('/login').expect(200)).text);
    const signedOut = await visitor.post(`/quotes/${number}/pay-with-units`).type('form').send({ _csrf: visitorToken, termsId: String(termsId), acceptTerms: 'on' });
    expect([signedOut.status, signedOut.headers.location]).to.deep.equal([303, '/login']);
    expect(await written()).to.deep.equal(before);
  });

  it('refuses a quote staff did not price in units, the terms not accepted or an older version of them, with nothing written', async () => {
    const notOffered = await sentQuote(portal, desk, { username: 'etudiant' });
    const number = await sentQuote(portal, desk, FOR_ETUDIANT);
    await setBalance(100_00);
    const before = await written();
    expectProblem(await payWithUnits(student, notOffered), notOffered, 'unitsNotOffered');
    expectProblem(await payWithUnits(student, number, { acceptTerms: undefined }), number, 'unitsTerms');
    expectProblem(await payWithUnits(student, number, { termsId: undefined }), number, 'unitsTerms');
    expect(await written()).to.deep.equal(before);
    const newer = await publishTerms(knex(), DEMO_TERMS, portal.clock.now());
    const beforeNewer = await written();
    try {
      expectProblem(await payWithUnits(student, number), number, 'unitsTerms');
      expect(await written()).to.deep.equal(beforeNewer);
      expectPaid(await payWithUnits(student, number, { termsId: String(newer.id) }), number);
    } finally {
      termsId = newer.id;
    }
  });

  it('refuses an expired, cancelled or refunded quote, and pays a quote on its last day', async () => {
    const expiring = await sentQuote(portal, desk, { ...FOR_ETUDIANT, validUntil: dayFromNow(portal, 1) });
    const cancelled = await sentQuote(portal, desk, FOR_ETUDIANT);
    const confirm = await desk.get(`/desk/quotes/${cancelled}/cancel`).expect(200);
    await desk.post(`/desk/quotes/${cancelled}/cancel`).type('form').send(formFields(confirm.text, `/desk/quotes/${cancelled}/cancel`)).expect(303);
    await setBalance(1_000_00);
    const before = await written();
    expectProblem(await payWithUnits(student, cancelled), cancelled, 'unitsNotPayable');
    expect(await written()).to.deep.equal(before);

    const lastDay = await sentQuote(portal, desk, { ...FOR_ETUDIANT, validUntil: dayFromNow(portal, 1) });
    portal.clock.advance(24 * 3600_000);
    student = await loggedInAs('etudiant');
    expectPaid(await payWithUnits(student, lastDay), lastDay);
    portal.clock.advance(24 * 3600_000);
    student = await loggedInAs('etudiant');
    desk = await loggedInAs('accueil');
    // Past its last day, before the sweep has marked it expired.
    expect((await quoteRow(expiring)).status).to.equal('sent');
    const beforeExpired = await written();
    expectProblem(await payWithUnits(student, expiring), expiring, 'unitsNotPayable');
    expect(await written()).to.deep.equal(beforeExpired);

    await refund(lastDay, 'Travail annulé');
    const beforeRefunded = await written();
    expectProblem(await payWithUnits(student, lastDay), lastDay, 'unitsNotPayable');
    expect(await written()).to.deep.equal(beforeRefunded);
  });

  it('refuses units while a PayPal order of the quote may still be paid, and takes them once it is cancelled', async () => {
    const number = await sentQuote(portal, desk, FOR_ETUDIANT);
    await setBalance(100_00);
    const token = csrfTokenFrom((await student.get('/account').expect(200)).text);
    const toPayPal = await student.post(`/quotes/${number}/pay`).type('form').send({ _csrf: token, terms: String(termsId) });
    expect(toPayPal.status, toPayPal.text.slice(0, 300)).to.equal(303);
    const paypalOrderId = new URL(toPayPal.headers.location as string).searchParams.get('token')!;
    const before = await written();
    expectProblem(await payWithUnits(student, number), number, 'unitsInProgress');
    expect(await written()).to.deep.equal(before);

    await student.get(`/quotes/cancel?token=${paypalOrderId}`).expect(303);
    expect((await knex()('orders').where('quote_id', (await quoteRow(number)).id).first()).status).to.equal('cancelled');
    expectPaid(await payWithUnits(student, number), number);
    expect(await balance()).to.equal(100_00 - PRICE);
  });

  it('pays once for ten clicks at once: every click lands on the paid quote, one transaction, the balance down once', async () => {
    const number = await sentQuote(portal, desk, FOR_ETUDIANT);
    await setBalance(10 * PRICE);
    const token = csrfTokenFrom((await student.get('/account').expect(200)).text);
    const clicks = await Promise.all(
      Array.from({ length: 10 }, () => student.post(`/quotes/${number}/pay-with-units`).type('form').send({ _csrf: token, termsId: String(termsId), acceptTerms: 'on' })),
    );
    for (const click of clicks) expectPaid(click, number);
    const quote = await quoteRow(number);
    expect(await knex()('ledger_transactions').where('idempotency_key', `quote-units:${quote.id}`).select('id')).to.have.length(1);
    expect(await knex()('ledger_transactions').where('kind', 'quote_payment').where('description', number).select('id')).to.have.length(1);
    expect(await balance()).to.equal(9 * PRICE);
    expect(await knex()('quote_events').where({ quote_id: quote.id, type: 'paid_in_units' }).select('id')).to.have.length(1);
  });

  it('pays once when units and PayPal are pressed at once: either the units pay it and PayPal is refused, or PayPal opens and the units are refused', async () => {
    await setBalance(5 * PRICE);
    /** Presses both for a new quote, together or units once PayPal's order exists; answers who won, once checked. */
    const race = async (unitsOnceOrdered: boolean) => {
      const number = await sentQuote(portal, desk, FOR_ETUDIANT);
      const token = csrfTokenFrom((await student.get('/account').expect(200)).text);
      const pressUnits = () => student.post(`/quotes/${number}/pay-with-units`).type('form').send({ _csrf: token, termsId: String(termsId), acceptTerms: 'on' });
      // .then sends the request now; supertest waits for it otherwise.
      const paypalPressed = student.post(`/quotes/${number}/pay`).type('form').send({ _csrf: token, terms: String(termsId) }).then((response) => response);
      if (unitsOnceOrdered) await until(async () => knex()('orders').where('quote_id', (await quoteRow(number)).id).first('id'), 'the PayPal order is made');
      const [units, paypal] = await Promise.all([pressUnits(), paypalPressed]);
      const quote = await quoteRow(number);
      const orders = await knex()('orders').where('quote_id', quote.id).select('status');
      if (units.headers.location === `/quotes/${number}`) {
        expect([quote.status, paypal.status, orders]).to.deep.equal(['paid', 409, []]);
        return 'units';
      }
      expectProblem(units, number, 'unitsInProgress');
      expect([quote.status, quote.paid_ledger_transaction_id, paypal.status, orders]).to.deep.equal(['sent', null, 303, [{ status: 'awaiting_payment' }]]);
      return 'paypal';
    };
    for (let round = 0; round < 4; round += 1) await race(false);
    // PayPal's order made and PayPal slow to answer: the customer is at PayPal right now, the units are refused.
    portal.simulator.setFault({ type: 'delay', ms: 300, operation: 'create' });
    expect(await race(true)).to.equal('paypal');
  });

  it('refuses a form without its CSRF token with 403 and takes nothing', async () => {
    const number = await sentQuote(portal, desk, FOR_ETUDIANT);
    await setBalance(100_00);
    const before = await written();
    const forged = await student.post(`/quotes/${number}/pay-with-units`).type('form').send({ termsId: String(termsId), acceptTerms: 'on' });
    expect(forged.status).to.equal(403);
    expect(await written()).to.deep.equal(before);
  });

  it('draws the units form the quote’s page includes: price, balance, terms, and a form the route accepts; a top-up link when the balance is short', async () => {
    const number = await sentQuote(portal, desk, FOR_ETUDIANT);
    await setBalance(60_00);
    const token = csrfTokenFrom((await student.get('/account').expect(200)).text);
    const quote = { ...(await quoteRow(number)), number, unitsPrice: PRICE };
    const render = (locale: Locale, unitsBalance: number) => {
      const t = translate(locale);
      return ejs.renderFile(path.join(projectRoot, 'views/quotes/units-form.ejs'), {
        quote,
        terms: { id: termsId },
        unitsBalance,
        t,
        csrfToken: () => token,
        formatUnits: (amount: number) => formatUnits(t, amount, locale),
      });
    };
    const french = await render('fr', 60_00);
    expect(readable(french)).to.include('Payer avec mes unités').and.include('49,60 unités').and.include('60,00 unités').and.include('10,40 unités').and.include("J'ai lu et j'accepte les conditions générales de vente.");
    expect(readable(await render('en', 60_00))).to.include('Pay with my units').and.include('Price in units').and.include('Your balance');
    const fields = formFields(french, `/quotes/${number}/pay-with-units`);
    expect(fields).to.deep.equal({ _csrf: token, termsId: String(termsId) });
    expectProblem(await student.post(`/quotes/${number}/pay-with-units`).type('form').send(fields), number, 'unitsTerms');
    expectPaid(await student.post(`/quotes/${number}/pay-with-units`).type('form').send({ ...fields, acceptTerms: 'on' }), number);

    const short = readable(await render('fr', 10_00));
    expect(short).to.include('il vous manque 39,60 unités').and.include('href="/topup"').and.not.include('pay-with-units');
  });

  /** Staff refund the units of `number` with `reason`, through the confirmation page; answers the POST. */
  async function refund(number: string, reason: string, agent = desk) {
    const confirm = await agent.get(`/desk/quotes/${number}/units-refund`).expect(200);
    return agent.post(`/desk/quotes/${number}/units-refund`).type('form').send(withChanges(formFields(confirm.text, `/desk/quotes/${number}/units-refund`), { reason }));
  }

  it('lets staff refund a quote paid in units once, with a reason: the balance back, the quote refunded, audited, the ledger whole', async () => {
    const number = await sentQuote(portal, desk, FOR_ETUDIANT);
    await setBalance(100_00);
    expectPaid(await payWithUnits(student, number), number);
    const page = readable((await desk.get(`/desk/quotes/${number}`).expect(200)).text);
    expect(page).to.include(`href="/desk/quotes/${number}/units-refund"`).and.include('Rembourser les unités');
    const confirm = readable((await desk.get(`/desk/quotes/${number}/units-refund`).expect(200)).text);
    expect(confirm).to.include(`Le paiement du devis ${number} (49,60 unités) sera recrédité sur le compte de etudiant`);

    const before = await written();
    const withoutReason = await refund(number, '  ');
    expect(withoutReason.status).to.equal(400);
    expect(readable(withoutReason.text)).to.include("Saisissez le motif du remboursement. Rien n'a été remboursé.");
    const tooLong = await refund(number, 'x'.repeat(501));
    expect(tooLong.status).to.equal(400);
    expect(readable(tooLong.text)).to.include('Le motif dépasse 500 caractères').and.include('x'.repeat(501));
    const asStudent = await student.post(`/desk/quotes/${number}/units-refund`).type('form').send({ _csrf: csrfTokenFrom((await student.get('/account').expect(200)).text), reason: 'moi' });
    expect(asStudent.status).to.equal(403);
    expect(await written()).to.deep.equal(before);

    const refunded = await refund(number, 'Impression ratée');
    expect([refunded.status, refunded.headers.location]).to.deep.equal([303, `/desk/quotes/${number}?notice=unitsRefunded`]);
    expect(await balance()).to.equal(100_00);
    const quote = await quoteRow(number);
    expect([quote.status, Number(quote.refunded_cents)]).to.deep.equal(['refunded', Number(quote.total_cents)]);
    const reversal = await knex()('ledger_transactions').where('idempotency_key', `quote-units-refund:${quote.id}`).first();
    expect(reversal).to.include({ kind: 'reversal', reverses_transaction_id: quote.paid_ledger_transaction_id, description: number });
    const audit = await knex()('audit_log').where({ action: 'quote.units_refund', target: number }).select('actor_username', 'before_json', 'after_json');
    expect(audit.map((row: { actor_username: string; before_json: string; after_json: string }) => [row.actor_username, JSON.parse(row.before_json), JSON.parse(row.after_json)])).to.deep.equal([
      ['accueil', { status: 'paid' }, { status: 'refunded', units: PRICE, reason: 'Impression ratée', transactionId: reversal.id }],
    ]);
    const event = await knex()('quote_events').where('quote_id', quote.id).orderBy('id', 'desc').first('type', 'from_status', 'to_status', 'actor_username', 'detail');
    expect(event).to.deep.equal({ type: 'units_refunded', from_status: 'paid', to_status: 'refunded', actor_username: 'accueil', detail: 'Impression ratée' });
    const shown = readable((await desk.get(`/desk/quotes/${number}?notice=unitsRefunded`).expect(200)).text);
    expect(shown).to.include('Les unités sont recréditées sur le compte de la personne').and.include('Unités remboursées').and.include('Payé → Remboursé').and.not.include(`/desk/quotes/${number}/units-refund"`);

    // The same form sent again refunds nothing more; the confirmation page is no longer offered.
    const again = await desk.post(`/desk/quotes/${number}/units-refund`).type('form').send({ _csrf: csrfTokenFrom(shown), reason: 'Impression ratée' });
    expect([again.status, again.headers.location]).to.deep.equal([303, `/desk/quotes/${number}?notice=unitsAlreadyRefunded`]);
    await desk.get(`/desk/quotes/${number}/units-refund`).expect(409);
    expect(await knex()('ledger_transactions').where('reverses_transaction_id', quote.paid_ledger_transaction_id).select('id')).to.have.length(1);
    expect(await balance()).to.equal(100_00);
    const gestion = await loggedInAs('gestion');
    expect(readable((await gestion.get('/admin/audit').expect(200)).text)).to.include("Unités d'un devis remboursées");
    // The accountants' export names the payment and its reversal, the units on the person's side.
    const csv = await gestion.get('/admin/reports/transactions.csv').buffer(true).parse((stream, done) => {
      let text = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (text += chunk));
      stream.on('end', () => done(null, text));
    });
    const rows = (csv.body as string).split('\r\n').filter((row) => row.includes(`;${number};`)).map((row) => row.split(';'));
    expect(rows.map((row) => [row[2], row[5]])).to.deep.equal([
      ['Paiement de devis en unités', '-49,60'],
      ['Annulation', '49,60'],
    ]);
    expect((await checkLedger(knex())).ok).to.equal(true);
  });

  it('refunds units only for a quote paid with them: a sent quote or a PayPal one is refused with 409 and nothing written', async () => {
    const number = await sentQuote(portal, desk, FOR_ETUDIANT);
    const before = await written();
    await desk.get(`/desk/quotes/${number}/units-refund`).expect(409);
    const token = csrfTokenFrom((await desk.get(`/desk/quotes/${number}`).expect(200)).text);
    const refused = await desk.post(`/desk/quotes/${number}/units-refund`).type('form').send({ _csrf: token, reason: 'Erreur' });
    expect(refused.status).to.equal(409);
    expect(readable(refused.text)).to.include("Ce devis n'a pas été payé en unités");
    expect(await written()).to.deep.equal(before);
  });
});
