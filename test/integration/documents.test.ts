import { createHash } from 'node:crypto';
import { threadId as mainThreadId } from 'node:worker_threads';
import { expect } from 'chai';
import supertest from 'supertest';
import { createDocumentIssuing } from '../../src/services/documents/document-issuing.js';
import { parseDocumentNumber } from '../../src/domain/documents/documents.js';
import { parseOrderNumber } from '../../src/domain/checkout/orders.js';
import { testDialect } from '../helpers/database.js';
import { formFields } from '../helpers/html-form.js';
import { download } from '../helpers/downloads.js';
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
    // Downloads are counted by the suite below; here they are not what is tested. Receipts are mailed (by
    // SMTP, never reached in these tests), so that each is drawn right after its payment for the mail.
    portal = await createTestPortal({
      SELLER_NAME: 'Université Exemple',
      SELLER_VAT_NUMBER: 'FR12345678901',
      SELLER_EMAIL: 'compta@universite-exemple.test',
      DOCUMENT_DOWNLOADS_PER_MINUTE: '1000',
      MAIL_DELIVERY: 'smtp',
      SMTP_HOST: '127.0.0.1',
    });
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
  /** The renderings the portal logged for a document, one per language it was rendered in. */
  const renderingsOf = (number: string) => portal.logs.filter((line) => line.msg === 'document rendered' && line.document === number);
  /** A paid order's receipt, once the renderings started by its payment are over. */
  async function receiptOf(number: string) {
    await portal.documentFiles.idle();
    const [receipt] = await documentsOf(number);
    return { id: receipt.id as number, number: receipt.number as string, path: `/documents/${String(receipt.number)}.pdf` };
  }
  const storedFiles = (documentId: number) => portal.db.knex('document_files').where('document_id', documentId).orderBy('locale');
  /** The footer line that names the organisation, and the size of the logo drawn. */
  async function brandingPrinted(agent: Agent, path: string) {
    const { lines, images } = await readPdf((await download(agent, path).expect(200)).body as Buffer);
    return { footer: lines.find((line) => /^Document (généré par|generated by)/.test(line)), images };
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
    // An offer no other test here pays: the same offer again would bring this open order back.
    const number = await placeOrder(buyer, { offer: 'pack-50', terms: String(termsId) });
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

  it('renders a receipt once per language on the render thread, the first right after the payment, and serves the stored bytes ever after', async () => {
    const receipt = await receiptOf(await paidOrder('pack-10'));
    // Rendered in the buyer's language before anyone asked for it, away from the event loop.
    const [french, ...others] = await storedFiles(receipt.id);
    expect(others).to.deep.equal([]);
    expect(french).to.include({ locale: 'fr' });
    const pdf = french.pdf as Buffer;
    expect(french.sha256).to.equal(createHash('sha256').update(pdf).digest('hex'));
    expect(Number(french.byte_size)).to.equal(pdf.length);
    const [rendering, ...again] = renderingsOf(receipt.number);
    expect(again).to.deep.equal([]);
    expect(rendering).to.include({ locale: 'fr', stored: true });
    expect(rendering!.threadId).to.be.a('number').and.not.equal(mainThreadId);

    // The buyer twice and an admin (the buyer's language): the stored bytes each time, nothing drawn again.
    for (const agent of [buyer, buyer, admin]) expect(((await download(agent, receipt.path).expect(200)).body as Buffer).equals(pdf)).to.equal(true);
    expect(renderingsOf(receipt.number)).to.have.length(1);

    // The other language is rendered when first asked for, then served as stored too.
    await chooseLanguage(buyer, 'en');
    try {
      const english = (await download(buyer, receipt.path).expect(200)).body as Buffer;
      expect((await download(buyer, receipt.path).expect(200)).body).to.deep.equal(english);
      expect((await readPdf(english)).text).to.include('Receipt number');
      expect(renderingsOf(receipt.number).map((line) => line.locale)).to.deep.equal(['fr', 'en']);
      expect((await storedFiles(receipt.id)).map((row: { locale: string; pdf: Buffer }) => [row.locale, row.pdf.equals(row.locale === 'fr' ? pdf : english)])).to.deep.equal([
        ['en', true],
        ['fr', true],
      ]);
    } finally {
      await chooseLanguage(buyer, 'fr');
    }
  });

  it('prints the name and logo the portal had when the document was issued, even in a language first rendered after IT changed the look', async () => {
    const before = await receiptOf(await paidOrder('pack-5'));
    // As the command line issues a document (it has no theme at hand): the credit note of a refund recorded
    // before credit notes existed, with no look recorded and nothing rendered yet.
    const refundedOrder = parseOrderNumber(await paidOrder('pack-10'))!;
    const refund = { refund_id: `OLD-REFUND-${refundedOrder}`, order_id: refundedOrder, currency: 'EUR', amount_cents: 500, net_cents: 417, vat_cents: 83 };
    await portal.db.knex('payment_refunds').insert({ ...refund, created_at: portal.clock.now().toISOString() });
    const commandLine = createDocumentIssuing({ seller: portal.config.seller, defaultLocale: 'fr', mailDomain: 'recharge.test' });
    const [creditNote, ...more] = await commandLine.issueMissing(portal.db, portal.clock.now());
    expect([creditNote?.kind, creditNote?.brand, more]).to.deep.equal(['credit_note', null, []]);
    const fromCli = { id: creditNote!.id, path: `/documents/${creditNote!.number}.pdf` };
    expect(await storedFiles(fromCli.id)).to.deep.equal([]);
    expect(await portal.db.knex('documents').where('id', before.id).first('brand_name', 'brand_colour', 'brand_logo')).to.deep.equal({
      brand_name: 'Recharge',
      brand_colour: '#1d4f91',
      brand_logo: 'theme:default/assets/logo.svg',
    });

    // IT publishes the campus theme: another name, and a 128-pixel PNG logo instead of the SVG drawn at 256 pixels.
    await portal.addUser('graphiste', PASSWORD, { role: 'it' });
    const it = supertest.agent(portal.app);
    await logIn(it, 'graphiste', PASSWORD);
    const overview = await it.get('/it/branding').expect(200);
    await it.post('/it/branding/themes/campus/drafts').type('form').send(formFields(overview.text, '/it/branding/themes/campus/drafts')).expect(303);
    const { id: version } = await portal.db.knex('branding_versions').orderBy('id', 'desc').first('id');
    const preview = await it.get('/account').expect(200);
    await it.post(`/it/branding/versions/${version}/publish`).type('form').send(formFields(preview.text, `/it/branding/versions/${version}/publish`)).expect(303);

    const after = await receiptOf(await paidOrder('pack-5'));
    expect(await brandingPrinted(buyer, after.path)).to.deep.equal({ footer: 'Document généré par Université Exemple — page 1/1', images: [{ width: 128, height: 128 }] });
    // The receipt issued before: its English rendition, drawn only now, still has the look of its issue.
    await chooseLanguage(buyer, 'en');
    try {
      expect(await brandingPrinted(buyer, before.path)).to.deep.equal({ footer: 'Document generated by Recharge — page 1/1', images: [{ width: 256, height: 256 }] });
    } finally {
      await chooseLanguage(buyer, 'fr');
    }
    // The receipt issued without a look takes the one of its first rendering, and keeps it.
    expect(await brandingPrinted(buyer, fromCli.path)).to.deep.include({ footer: 'Document généré par Université Exemple — page 1/1' });
    expect(await portal.db.knex('documents').where('id', fromCli.id).first('brand_name', 'brand_logo')).to.deep.equal({ brand_name: 'Université Exemple', brand_logo: 'theme:campus/assets/logo.png' });
  });

  it('answers a document the render thread cannot draw with the error page, and goes on serving the others', async () => {
    const brokenOrder = await paidOrder('pack-20');
    const broken = await receiptOf(brokenOrder);
    const fine = await receiptOf(await paidOrder('pack-20'));
    // A currency code Intl refuses (a damaged row): drawing the English rendition throws on the render thread.
    const orderId = parseOrderNumber(brokenOrder)!;
    await portal.db.knex('orders').where('id', orderId).update({ currency: 'E1' });
    await chooseLanguage(buyer, 'en');
    try {
      const failed = await buyer.get(broken.path);
      expect(failed.status).to.equal(500);
      expect(failed.headers['content-type']).to.match(/^text\/html/);
      expect(failed.text).to.include('Something went wrong');
      const logged = portal.logs.find((line) => (line.req as { path?: string } | undefined)?.path === broken.path && line.msg === 'request errored');
      expect(logged?.err).to.include({ message: 'render thread: Invalid currency code : E1' });
      expect((await storedFiles(broken.id)).map((row: { locale: string }) => row.locale)).to.deep.equal(['fr']);
      expect((await readPdf((await download(buyer, fine.path).expect(200)).body as Buffer)).text).to.include('Receipt number');

      await portal.db.knex('orders').where('id', orderId).update({ currency: 'EUR' });
      expect((await readPdf((await download(buyer, broken.path).expect(200)).body as Buffer)).text).to.include(`Receipt number ${broken.number}`);
    } finally {
      await portal.db.knex('orders').where('id', orderId).update({ currency: 'EUR' });
      await chooseLanguage(buyer, 'fr');
    }
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

describe(`receipt downloads per person and minute (${testDialect})`, () => {
  let portal: TestPortal;
  let receipt: string;
  let buyer: Agent;
  let admin: Agent;

  before(async () => {
    portal = await createTestPortal({ DOCUMENT_DOWNLOADS_PER_MINUTE: '3' });
    const termsId = await publishOffers(portal);
    await portal.addUser('zoe', PASSWORD);
    await portal.addUser('gestion', PASSWORD, { role: 'admin' });
    [buyer, admin] = [supertest.agent(portal.app), supertest.agent(portal.app)];
    await logIn(buyer, 'zoe', PASSWORD);
    await logIn(admin, 'gestion', PASSWORD, { 'Accept-Language': 'en' });
    const number = await placeOrder(buyer, { offer: 'pack-5', terms: String(termsId) });
    await buyer.get(pathOf(portal.simulator.approve(await pay(buyer, portal, number)))).expect(303);
    [{ number: receipt }] = await portal.db.knex('documents').select('number');
  });
  after(() => portal.cleanup());

  it('answers 429 with Retry-After and the error page in the reader’s language past the limit, buyers and admins alike, and serves again once the minute is over', async () => {
    const path = `/documents/${receipt}.pdf`;
    for (let count = 0; count < 3; count += 1) await download(buyer, count === 1 ? '/documents/RC-999999.pdf' : path).expect(count === 1 ? 404 : 200);
    const refused = await buyer.get(path);
    expect(refused.status).to.equal(429);
    expect(refused.headers['retry-after']).to.equal('60');
    expect(refused.text).to.include('Trop de demandes');
    expect(refused.headers['content-type']).to.match(/^text\/html/);

    // Each person has their own count: the admin downloads, up to the same limit, in English.
    for (let count = 0; count < 3; count += 1) await download(admin, path, { 'Accept-Language': 'en' }).expect(200);
    const adminRefused = await admin.get(path).set('Accept-Language', 'en');
    expect(adminRefused.status).to.equal(429);
    expect(adminRefused.text).to.include('Too many requests');

    portal.clock.advance(45_000);
    const still = await buyer.get(path);
    expect(still.status).to.equal(429);
    expect(still.headers['retry-after']).to.equal('15');
    portal.clock.advance(15_000);
    await download(buyer, path).expect(200);
    await download(admin, path).expect(200);
  });
});
