import { expect } from 'chai';
import supertest from 'supertest';
import { formatOrderNumber } from '../../src/domain/checkout/orders.js';
import { testDialect } from '../helpers/database.js';
import { download } from '../helpers/downloads.js';
import { formFields, withChanges } from '../helpers/html-form.js';
import { readPdf } from '../helpers/pdf-text.js';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';
import { checkPaymentsSettled, payQuote } from '../helpers/quote-payments.js';
import { sentQuote } from '../helpers/quotes.js';
import { publishOffers } from '../helpers/topup.js';

type Agent = ReturnType<typeof supertest.agent>;

/** French amounts carry narrow no-break spaces. */
const plain = (text: string) => text.replace(/[\u00a0\u202f]/g, ' ');
/** An error page without what differs between any two responses: the nonce, and the path asked for (the language form returns to it). */
const errorPageOf = (html: string, path: string) => html.replace(/nonce="[^"]*"/g, '').replaceAll(path, '');

describe(`reprography desk: a quote's online payments and their refunds (${testDialect})`, function () {
  let portal: TestPortal;
  let termsId: number;
  let desk: Agent;
  let admin: Agent;
  let student: Agent;

  const knex = () => portal.db.knex;
  const quoteRow = (number: string) => knex()('quotes').where('number', number).first();
  /** The quote's order, with its number as printed. */
  const orderOf = async (number: string) => {
    const row = await knex()('orders').where('quote_id', (await quoteRow(number)).id).first();
    return { ...row, number: formatOrderNumber(row.id, new Date(row.created_at)) };
  };
  const documentsOf = async (orderId: number) => knex()('documents').where('order_id', orderId).orderBy('id').select('*');
  /** Everything a refused refund must leave as it was. */
  const written = async () => ({
    quotes: await knex()('quotes').orderBy('id').select('*'),
    orders: await knex()('orders').orderBy('id').select('*'),
    refunds: await knex()('payment_refunds').select('*'),
    requests: await knex()('admin_refund_requests').select('*'),
    documents: await knex()('documents').select('id'),
    audit: await knex()('audit_log').select('id'),
  });
  const refundPath = (number: string, orderNumber: string) => `/desk/quotes/${number}/payments/${orderNumber}/refund`;
  /** The refund form of the quote's page, as the desk fills it in. */
  async function refundForm(number: string, orderNumber: string, changes: Record<string, string | undefined>) {
    const page = await desk.get(`/desk/quotes/${number}`).expect(200);
    return withChanges(formFields(page.text, refundPath(number, orderNumber)), changes);
  }
  const loggedInAs = async (username: string, password: string) => {
    const agent = supertest.agent(portal.app);
    expect((await logIn(agent, username, password)).status).to.equal(303);
    return agent;
  };

  before(async () => {
    portal = await createTestPortal({ SELLER_NAME: 'Université Exemple', SELLER_EMAIL: 'reprographie@univ.example', DOCUMENT_DOWNLOADS_PER_MINUTE: '1000' });
    termsId = await publishOffers(portal);
    await portal.addUser('accueil', 'desk-password');
    await knex()('users').where('username', 'accueil').update({ quote_desk: true });
    await portal.addUser('gestion', 'admin-password', { role: 'admin' });
    await portal.addUser('etudiant', 'student-password');
    desk = await loggedInAs('accueil', 'desk-password');
    admin = await loggedInAs('gestion', 'admin-password');
    student = await loggedInAs('etudiant', 'student-password');
  });
  afterEach(() => checkPaymentsSettled(portal));
  after(() => portal.cleanup());

  it('lists the quote’s payment: order, status, amount, PayPal references, date, receipt; the full order file for admins only', async () => {
    const number = await sentQuote(portal, desk);
    expect((await desk.get(`/desk/quotes/${number}`).expect(200)).text).to.include('Paiements').and.include('aucun paiement en ligne');

    await payQuote(portal, number, termsId);
    const order = await orderOf(number);
    const [receipt] = await documentsOf(order.id);
    const page = plain((await desk.get(`/desk/quotes/${number}`).expect(200)).text);
    for (const expected of [order.number, 'Payée', '47,49 €', order.paypal_order_id, order.paypal_capture_id, `datetime="${new Date(order.paid_at).toISOString()}"`, `href="/documents/${receipt.number}.pdf"`, 'Rembourser la commande']) {
      expect(page).to.include(expected);
    }
    expect(page).not.to.include(`href="/admin/orders/${order.number}"`);
    expect((await admin.get(`/desk/quotes/${number}`).expect(200)).text).to.include(`href="/admin/orders/${order.number}"`);

    // The desk opens the receipt it links to; a person of the portal who is not its buyer gets the 404 of a number never issued.
    const pdf = await download(desk, `/documents/${receipt.number}.pdf`).expect(200);
    expect((await readPdf(pdf.body as Buffer)).text).to.include(`Devis ${number}`);
    await download(student, `/documents/${receipt.number}.pdf`).expect(404);
  });

  it('refunds part then the rest through PayPal from the quote’s page: a credit note each, the quote partly then wholly refunded, audited and on the timeline', async () => {
    const number = await sentQuote(portal, desk);
    await payQuote(portal, number, termsId);
    const order = await orderOf(number);

    const partial = await desk.post(refundPath(number, order.number)).type('form').send(await refundForm(number, order.number, { amount: '10,00', reason: 'Reliure annulée' }));
    expect(partial.status, partial.text.slice(0, 800)).to.equal(303);
    const location = new URL(partial.headers.location as string, portal.baseUrl);
    expect(location.pathname).to.equal(`/desk/quotes/${number}`);
    expect(location.searchParams.get('payment')).to.equal('refunded');
    await portal.simulator.flushWebhooks();
    expect(await quoteRow(number)).to.include({ status: 'partially_refunded', refunded_cents: 1000 });
    expect((await orderOf(number)).refunded_cents).to.equal(1000);
    const [, firstNote] = await documentsOf(order.id);
    expect(firstNote.kind).to.equal('credit_note');
    const refunded = plain((await desk.get(`${location.pathname}${location.search}`).expect(200)).text);
    for (const expected of [`référence ${location.searchParams.get('refund')}`, 'Remboursé en partie', 'Partiellement remboursée', `/documents/${firstNote.number}.pdf`, '10,00 €']) {
      expect(refunded).to.include(expected);
    }
    const audit = await knex()('audit_log').where({ action: 'order.refund', target: order.number }).select('actor_username', 'after_json');
    expect(audit.map((row: { actor_username: string }) => row.actor_username)).to.deep.equal(['accueil']);
    expect(JSON.parse(String(audit[0].after_json))).to.include({ amountCents: 1000, reason: 'Reliure annulée' });

    // The form offers what is left (37,49 €) by default.
    const rest = await desk.post(refundPath(number, order.number)).type('form').send(await refundForm(number, order.number, { reason: 'Commande annulée' }));
    expect(rest.status, rest.text.slice(0, 800)).to.equal(303);
    await portal.simulator.flushWebhooks();
    expect(await quoteRow(number)).to.include({ status: 'refunded', refunded_cents: 4749 });
    expect((await documentsOf(order.id)).map((document: { kind: string }) => document.kind)).to.deep.equal(['receipt', 'credit_note', 'credit_note']);
    const done = (await desk.get(`/desk/quotes/${number}`).expect(200)).text;
    expect(done).to.include('Remboursée').and.not.include(`action="${refundPath(number, order.number)}"`);
    const timeline = await knex()('quote_events').where('quote_id', (await quoteRow(number)).id).orderBy('id').select('to_status');
    expect(timeline.map((event: { to_status: string | null }) => event.to_status).slice(-3)).to.deep.equal(['paid', 'partially_refunded', 'refunded']);
  });

  it('refuses a refund without CSRF, from outside the desk, with a bad nonce, amount or reason, or for another quote’s order: nothing asked of PayPal, nothing written', async () => {
    const number = await sentQuote(portal, desk);
    const other = await sentQuote(portal, desk);
    await payQuote(portal, number, termsId);
    const order = await orderOf(number);
    const path = refundPath(number, order.number);
    const form = await refundForm(number, order.number, { amount: '5,00', reason: 'Essai' });
    const before = await written();
    const refundsAsked = () => portal.simulator.requests.filter((request) => request.path.endsWith('/refund')).length;
    const asked = refundsAsked();

    await desk.post(path).type('form').send(withChanges(form, { _csrf: undefined })).expect(403);
    await desk.post(path).type('form').send(withChanges(form, { _csrf: 'forged' })).expect(403);
    await student.post(path).type('form').send({ ...form, _csrf: csrfTokenFrom((await student.get('/account').expect(200)).text) }).expect(403);
    const visitor = await supertest(portal.app).post(path).type('form').send(form);
    expect(visitor.status).to.equal(403);
    await desk.post(path).type('form').send(withChanges(form, { nonce: 'not-a-nonce' })).expect(400);
    await desk.post(refundPath(other, order.number)).type('form').send(form).expect(404);

    const badAmount = await desk.post(path).type('form').send(withChanges(form, { amount: 'dix euros' }));
    expect(badAmount.status).to.equal(400);
    expect(badAmount.text).to.include('Indiquez un montant valide').and.include('value="dix euros"');
    const tooMuch = await desk.post(path).type('form').send(withChanges(form, { amount: '50,00' }));
    expect(tooMuch.status).to.equal(400);
    expect(plain(tooMuch.text)).to.include('Au plus 47,49 € peut encore être remboursé');
    const noReason = await desk.post(path).type('form').send(withChanges(form, { reason: '  ' }));
    expect(noReason.status).to.equal(400);
    expect(noReason.text).to.include('Indiquez le motif du remboursement.');

    expect(refundsAsked()).to.equal(asked);
    expect(await written()).to.deep.equal(before);
  });

  it('serves the quote’s documents to its customer only: with the number and postcode given in this browser, or signed in as its person; anyone else gets a 404', async () => {
    const number = await sentQuote(portal, desk, { username: 'etudiant' });
    const other = await sentQuote(portal, desk);
    const customer = await payQuote(portal, number, termsId);
    const otherCustomer = await payQuote(portal, other, termsId);
    const [receipt] = await documentsOf((await orderOf(number)).id);
    const [otherReceipt] = await documentsOf((await orderOf(other)).id);
    const receiptPath = `/quotes/${number}/documents/${receipt.number}`;

    const response = await download(customer, receiptPath).expect(200);
    expect(response.headers['content-type']).to.equal('application/pdf');
    expect(response.headers['cache-control']).to.equal('private, no-store');
    expect(response.headers['content-disposition']).to.equal(`attachment; filename=${receipt.number}.pdf`);
    expect((await readPdf(response.body as Buffer)).text).to.include(`Numéro du reçu ${receipt.number}`);
    const quotePdf = await download(customer, `/quotes/${number}/documents/${number}`).expect(200);
    expect((await readPdf(quotePdf.body as Buffer)).text).to.include('Accepter ce devis');
    // The person the quote is made out to, signed in, without the lookup.
    await download(student, receiptPath).expect(200);

    // Another quote's customer, a stranger, staff, another quote's receipt under this quote: each gets the 404 of a number never issued.
    const sameRequest = { 'X-Request-Id': 'same-request-id-for-both' };
    const unknownPath = `/quotes/${number}/documents/RC-999999`;
    for (const [agent, path] of [
      [otherCustomer, receiptPath],
      [supertest.agent(portal.app), receiptPath],
      [desk, receiptPath],
      [customer, `/quotes/${number}/documents/${otherReceipt.number}`],
      [customer, `/quotes/${other}/documents/${otherReceipt.number}`],
    ] as const) {
      const hidden = await download(agent, path, sameRequest).expect(404);
      const unknown = await download(agent, unknownPath, sameRequest).expect(404);
      expect(errorPageOf(String(hidden.body), path), path).to.equal(errorPageOf(String(unknown.body), unknownPath));
    }
  });
});
