import { expect } from 'chai';
import supertest from 'supertest';
import { parseDocumentNumber } from '../../src/domain/documents.js';
import { parseOrderNumber } from '../../src/domain/orders.js';
import { testDialect } from '../helpers/database.js';
import { readPdf } from '../helpers/pdf-text.js';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';
import { pathOf, pay, placeOrder, publishOffers, restorePayments } from '../helpers/topup.js';

type Agent = ReturnType<typeof supertest.agent>;

const PASSWORD = 'a good long password';
const DOCUMENT_LINK = /href="(\/documents\/((?:RC|CN)-\d{6,})\.pdf)"/g;
/** The document links of a page, in page order. */
const documentLinks = (html: string) => [...html.matchAll(DOCUMENT_LINK)].map(([, path, number]) => ({ path: path!, number: number! }));
/** An error page without what differs between any two responses: the nonce, and the path asked for (the language form returns to it). */
const errorPageOf = (html: string, path: string) => html.replace(/nonce="[^"]*"/g, '').replaceAll(path, '');

/** GET a PDF, its body kept as bytes. */
function download(agent: Agent | supertest.Agent, path: string, headers: Record<string, string> = {}) {
  return agent
    .get(path)
    .set(headers)
    .buffer(true)
    .parse((response, done) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => done(null, Buffer.concat(chunks)));
    });
}

async function pdfTextAt(agent: Agent, path: string, headers: Record<string, string> = {}) {
  const response = await download(agent, path, headers).expect(200);
  return (await readPdf(response.body as Buffer)).text;
}

describe(`receipts and credit notes as PDF downloads (${testDialect})`, () => {
  let portal: TestPortal;
  let termsId: number;
  let buyer: Agent;
  let other: Agent;
  let admin: Agent;

  before(async () => {
    portal = await createTestPortal({ SELLER_NAME: 'Université Exemple', SELLER_VAT_NUMBER: 'FR12345678901', SELLER_EMAIL: 'compta@universite-exemple.test' });
    termsId = await publishOffers(portal);
    await portal.addUser('zoe', PASSWORD, { displayName: 'Ζωή Ёлкина' });
    await portal.addUser('other', PASSWORD);
    await portal.addUser('gestion', PASSWORD, { role: 'admin' });
    [buyer, other, admin] = [supertest.agent(portal.app), supertest.agent(portal.app), supertest.agent(portal.app)];
    await logIn(buyer, 'zoe', PASSWORD, { 'Accept-Language': 'fr' });
    await logIn(other, 'other', PASSWORD);
    await logIn(admin, 'gestion', PASSWORD);
  });
  afterEach(() => restorePayments(portal));
  after(() => portal.cleanup());

  /** Pays a pack through the simulator as the buyer would: approve at PayPal, come back, webhooks delivered. */
  async function paidOrder(offer = 'pack-20'): Promise<string> {
    const number = await placeOrder(buyer, { offer, terms: String(termsId) });
    const paypalOrderId = await pay(buyer, portal, number);
    const back = await buyer.get(pathOf(portal.simulator.approve(paypalOrderId)));
    expect(back.status).to.equal(303);
    await portal.simulator.flushWebhooks();
    return number;
  }
  const orderRow = (number: string) => portal.db.knex('orders').where('id', parseOrderNumber(number)!).first();
  const documentsOf = async (number: string) => portal.db.knex('documents').where('order_id', parseOrderNumber(number)!).orderBy('id');
  const linksOn = async (agent: Agent, path: string) => documentLinks((await agent.get(path).expect(200)).text);

  async function chooseLanguage(agent: Agent, locale: 'fr' | 'en') {
    const page = await agent.get('/account').expect(200);
    await agent.post('/language').type('form').send({ _csrf: csrfTokenFrom(page.text), locale, returnTo: '/account' }).expect(303);
  }

  it('links the receipt of a paid order; its PDF holds the numbers and VAT of the order, in the reader’s language', async () => {
    const number = await paidOrder();
    const [link, ...more] = await linksOn(buyer, `/orders/${number}`);
    expect(more).to.deep.equal([]);
    expect(link!.number).to.match(/^RC-\d{6}$/);
    expect(link!.number).not.to.equal(number);
    expect(await linksOn(buyer, `/orders/${number}/receipt`)).to.deep.equal([link]);

    const response = await download(buyer, link!.path).expect(200);
    expect(response.headers['content-type']).to.equal('application/pdf');
    expect(response.headers['content-disposition']).to.equal(`attachment; filename=${link!.number}.pdf`);
    expect(response.headers['cache-control']).to.equal('private, no-store');
    expect(response.headers['x-content-type-options']).to.equal('nosniff');
    const { paypal_capture_id: captureId } = await orderRow(number);
    const french = (await readPdf(response.body as Buffer)).text;
    for (const expected of [
      'Reçu',
      `Numéro du reçu ${link!.number}`,
      `Commande ${number}`,
      'Recharger le compte avec 20,00 unités 20,00 €',
      'Bonus offert : 2,00 unités',
      'Montant HT 16,67 €',
      'TVA (20 %) 3,33 €',
      'Total TTC 20,00 €',
      `Transaction PayPal ${String(captureId)}`,
      'Université Exemple',
      'N° TVA intracommunautaire : FR12345678901',
      'Ζωή Ёлкина',
    ]) {
      expect(french).to.include(expected);
    }

    await chooseLanguage(buyer, 'en');
    try {
      const english = await pdfTextAt(buyer, link!.path);
      for (const expected of ['Receipt', `Receipt number ${link!.number}`, `Order ${number}`, 'Amount excl. VAT €16.67', 'VAT (20%) €3.33', 'Total incl. VAT €20.00', `PayPal transaction ${String(captureId)}`]) {
        expect(english).to.include(expected);
      }
      expect(english).not.to.include('Montant HT');
    } finally {
      await chooseLanguage(buyer, 'fr');
    }
  });

  it('answers another person with the 404 of a number never issued, sends visitors to log in, and gives admins the buyer’s language', async () => {
    const number = await paidOrder('pack-10');
    const [receipt] = await linksOn(buyer, `/orders/${number}`);
    const sameRequest = { 'X-Request-Id': 'same-request-id-for-both' };
    const hidden = await download(other, receipt!.path, sameRequest).expect(404);
    const unknown = await download(other, '/documents/RC-999999.pdf', sameRequest).expect(404);
    expect(errorPageOf(String(hidden.body), receipt!.path)).to.equal(errorPageOf(String(unknown.body), '/documents/RC-999999.pdf')).and.include('Page introuvable');

    const visitor = await supertest(portal.app).get(receipt!.path);
    expect(visitor.status).to.equal(303);
    expect(visitor.headers.location).to.equal('/login');

    // IT brands the pages but reads no one's receipts.
    await portal.addUser('informatique', PASSWORD, { role: 'it' });
    const it = supertest.agent(portal.app);
    await logIn(it, 'informatique', PASSWORD);
    await download(it, receipt!.path).expect(404);

    // A buyer whose access was withdrawn is signed out, receipt or not.
    const leaving = supertest.agent(portal.app);
    await logIn(leaving, 'zoe', PASSWORD);
    await portal.users.setDisabled('zoe', true);
    try {
      const refused = await download(leaving, receipt!.path);
      expect(refused.status).to.equal(303);
      expect(refused.headers.location).to.match(/^\/login\b/);
    } finally {
      await portal.users.setDisabled('zoe', false);
      await logIn(buyer, 'zoe', PASSWORD, { 'Accept-Language': 'fr' });
    }

    // The admin reads the portal in English; the document stays in the buyer's French.
    const asAdmin = await pdfTextAt(admin, receipt!.path, { 'Accept-Language': 'en' });
    expect(asAdmin).to.include('Reçu').and.include('Montant HT 8,33 €').and.include('TVA (20 %) 1,67 €').and.include(`Commande ${number}`);
    expect(await linksOn(admin, `/admin/orders/${number}`)).to.deep.equal([receipt]);
  });

  it('issues nothing for an unpaid order', async () => {
    const number = await placeOrder(buyer, { offer: 'pack-5', terms: String(termsId) });
    await pay(buyer, portal, number);
    expect(await linksOn(buyer, `/orders/${number}`)).to.deep.equal([]);
    expect(await linksOn(admin, `/admin/orders/${number}`)).to.deep.equal([]);
    expect(await documentsOf(number)).to.have.length(0);
  });

  it('numbers the receipts of successive orders consecutively, apart from the order numbers', async () => {
    const first = await paidOrder('pack-5');
    const second = await paidOrder('pack-5');
    const [one] = await linksOn(buyer, `/orders/${first}`);
    const [two] = await linksOn(buyer, `/orders/${second}`);
    expect(parseDocumentNumber(two!.number)!.seriesNumber).to.equal(parseDocumentNumber(one!.number)!.seriesNumber + 1);
    expect(parseOrderNumber(second)).not.to.equal(parseDocumentNumber(two!.number)!.seriesNumber);
  });

  it('gives a refund its credit note, downloadable by the buyer and by admins and listed with the order', async () => {
    const number = await paidOrder();
    const page = (await admin.get(`/admin/orders/${number}`).expect(200)).text;
    const nonce = /name="nonce" value="([^"]+)"/.exec(page)![1]!;
    await admin
      .post(`/admin/orders/${number}/refund`)
      .type('form')
      .send({ _csrf: csrfTokenFrom(page), amount: '5,00', nonce, reason: 'Geste commercial' })
      .expect(303);
    await portal.simulator.flushWebhooks();

    const [receipt, creditNote, ...more] = await linksOn(buyer, `/orders/${number}`);
    expect(more).to.deep.equal([]);
    expect(receipt!.number).to.match(/^RC-/);
    expect(creditNote!.number).to.match(/^CN-\d{6}$/);
    expect(await linksOn(buyer, `/orders/${number}/receipt`)).to.deep.equal([receipt, creditNote]);
    expect(await linksOn(admin, `/admin/orders/${number}`)).to.deep.equal([receipt, creditNote]);

    const [refund] = await portal.db.knex('payment_refunds').where('order_id', parseOrderNumber(number)!);
    const text = await pdfTextAt(buyer, creditNote!.path);
    for (const expected of [
      'Avoir',
      `Numéro de l'avoir ${creditNote!.number}`,
      `Commande ${number}`,
      `Reçu corrigé ${receipt!.number}`,
      'Montant HT 4,17 €',
      'TVA (20 %) 0,83 €',
      'Total remboursé TTC 5,00 €',
      `Remboursement PayPal ${String(refund.refund_id)}`,
    ]) {
      expect(text).to.include(expected);
    }
    expect(await pdfTextAt(admin, creditNote!.path)).to.include(`Numéro de l'avoir ${creditNote!.number}`);
    await download(other, creditNote!.path).expect(404);
  });

  it('answers 404, never an error, to document names that are not issued numbers', async () => {
    const names = ['RC-1.pdf', 'RC-000001.txt', 'RC-000001', 'rc-000001.pdf', 'XX-000001.pdf', 'RC-0000001.pdf', 'RC-000000.pdf', 'RC-000001.pdf.pdf', '..%2Fx', '%2E%2E%2Fetc%2Fpasswd.pdf', `RC-${'0'.repeat(3000)}1.pdf`, '.pdf'];
    for (const name of names) {
      const response = await download(buyer, `/documents/${name}`);
      expect(response.status, name.slice(0, 40)).to.equal(404);
    }
    expect((await buyer.get('/documents/../x')).status).to.equal(404);
  });
});
