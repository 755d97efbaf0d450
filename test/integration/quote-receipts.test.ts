import { expect } from 'chai';
import supertest from 'supertest';
import { formatOrderNumber } from '../../src/domain/checkout/orders.js';
import { testDialect } from '../helpers/database.js';
import { download } from '../helpers/downloads.js';
import { formFields, withChanges } from '../helpers/html-form.js';
import { readPdf } from '../helpers/pdf-text.js';
import { createTestPortal, logIn, type TestPortal } from '../helpers/portal.js';
import { checkPaymentsSettled, payQuote } from '../helpers/quote-payments.js';
import { sentQuote, THESIS_QUOTE_LINES_IN_PDF } from '../helpers/quotes.js';
import { publishOffers } from '../helpers/topup.js';

type Agent = ReturnType<typeof supertest.agent>;

/** French amounts carry narrow no-break spaces; pdf.js reads them as spaces, and so does this for the mails. */
const plain = (text: string) => text.replace(/[\u00a0\u202f]/g, ' ');

describe(`receipts and credit notes of quotes paid online (${testDialect})`, function () {
  let portal: TestPortal;
  let termsId: number;
  let desk: Agent;
  let admin: Agent;

  const knex = () => portal.db.knex;
  /** The quote's order, with its number as printed. */
  const orderOf = async (number: string) => {
    const row = await knex()('orders').where('quote_id', (await knex()('quotes').where('number', number).first()).id).first();
    return { ...row, number: formatOrderNumber(row.id, new Date(row.created_at)) };
  };
  const documentsOf = async (orderId: number) => knex()('documents').where('order_id', orderId).orderBy('id').select('*');
  /** The document's PDF as the quote's customer downloads it, read back as text. */
  const pdfText = async (customer: Agent, quoteNumber: string, documentNumber: string, headers: Record<string, string> = {}) =>
    (await readPdf((await download(customer, `/quotes/${quoteNumber}/documents/${documentNumber}`, headers).expect(200)).body as Buffer)).text;

  /** A refund of `amount` asked for on the admins' order page; answers the PayPal refund id. */
  async function refundAsAdmin(orderNumber: string, amount: string): Promise<string> {
    const page = await admin.get(`/admin/orders/${orderNumber}`).expect(200);
    const fields = withChanges(formFields(page.text, `/admin/orders/${orderNumber}/refund`), { amount, reason: 'Reliure annulée' });
    const response = await admin.post(`/admin/orders/${orderNumber}/refund`).type('form').send(fields);
    expect(response.status, response.text.slice(0, 500)).to.equal(303);
    await portal.simulator.flushWebhooks();
    return new URL(response.headers.location as string, portal.baseUrl).searchParams.get('refund')!;
  }

  before(async () => {
    portal = await createTestPortal({ SELLER_NAME: 'Université Exemple', SELLER_EMAIL: 'reprographie@univ.example', SELLER_VAT_NUMBER: 'FR12345678901', DOCUMENT_DOWNLOADS_PER_MINUTE: '1000' });
    termsId = await publishOffers(portal);
    await portal.addUser('accueil', 'desk-password');
    await knex()('users').where('username', 'accueil').update({ quote_desk: true });
    await portal.addUser('gestion', 'admin-password', { role: 'admin' });
    desk = supertest.agent(portal.app);
    admin = supertest.agent(portal.app);
    expect((await logIn(desk, 'accueil', 'desk-password')).status).to.equal(303);
    expect((await logIn(admin, 'gestion', 'admin-password')).status).to.equal(303);
  });
  afterEach(() => checkPaymentsSettled(portal));
  after(() => portal.cleanup());

  it('prints the quote on the receipt of its payment: its number, its lines, the VAT of each of its two rates, the total, and no units', async () => {
    const number = await sentQuote(portal, desk);
    const customer = await payQuote(portal, number, termsId);
    const order = await orderOf(number);
    const [receipt, ...more] = await documentsOf(order.id);
    expect(more).to.deep.equal([]);

    const french = await pdfText(customer, number, receipt.number);
    for (const expected of [
      'Reçu',
      `Numéro du reçu ${receipt.number}`,
      `Commande ${order.number}`,
      `Devis ${number}`,
      'Camille Martin',
      'camille.martin@example.edu',
      'Désignation Qté Prix unit. TTC TVA Total TTC',
      ...THESIS_QUOTE_LINES_IN_PDF,
      'Mode de paiement PayPal',
      `Transaction PayPal ${order.paypal_capture_id}`,
      'N° TVA intracommunautaire : FR12345678901',
    ]) {
      expect(french).to.include(expected);
    }
    // The order records no single rate (0) for mixed lines; a customer without an account has no username.
    expect(french).not.to.include('TVA (0 %)').and.not.to.include('Unités').and.not.to.include('Identifiant');

    const english = await pdfText(customer, number, receipt.number, { 'Accept-Language': 'en' });
    for (const expected of ['Receipt', `Quote ${number}`, 'VAT 20% on €37.50 €6.25', 'VAT 5.5% on €9.99 €0.52', 'Total incl. VAT €47.49']) {
      expect(english).to.include(expected);
    }
  });

  it('mails the receipt as the payment of the quote, with the quote’s page, not as a top-up', async () => {
    const number = await sentQuote(portal, desk);
    await payQuote(portal, number, termsId);
    const [receipt] = await documentsOf((await orderOf(number)).id);
    const mail = await portal.documentMails.preview(receipt.id);
    expect(mail.subject).to.equal(`Votre reçu ${receipt.number} — devis ${number}`);
    const text = plain(mail.text);
    for (const expected of ['Bonjour Camille Martin,', `Votre paiement du devis ${number} est confirmé.`, `votre reçu ${receipt.number} (PDF)`, 'Montant payé : 47,49 €', `${portal.config.server.publicUrl}/quotes/${number}`]) {
      expect(text).to.include(expected);
    }
    expect(text).not.to.include('Unités').and.not.to.include('/orders/');
  });

  it('gives the refund of a quote with two rates its credit note: the VAT in proportion, never a rate of 0 %, and its own mail', async () => {
    const number = await sentQuote(portal, desk);
    const customer = await payQuote(portal, number, termsId);
    const order = await orderOf(number);
    const refundId = await refundAsAdmin(order.number, '10,00');
    const [receipt, creditNote, ...more] = await documentsOf(order.id);
    expect(more).to.deep.equal([]);
    expect(creditNote.kind).to.equal('credit_note');

    const text = await pdfText(customer, number, creditNote.number);
    // The line wraps before the order's number; its amount is beside its first line.
    expect(text).to.include(`Remboursement du devis ${number} (commande 10,00 €\n${order.number})`);
    for (const expected of [
      'Avoir',
      `Numéro de l'avoir ${creditNote.number}`,
      `Devis ${number}`,
      `Reçu corrigé ${receipt.number}`,
      // 10,00 € of 47,49 € whose VAT is 6,77 €: 1,43 € of VAT.
      'Montant HT 8,57 €',
      'TVA (au prorata) 1,43 €',
      'Total remboursé TTC 10,00 €',
      `Remboursement PayPal ${refundId}`,
    ]) {
      expect(text).to.include(expected);
    }
    expect(text).not.to.include('TVA (0 %)').and.not.to.include('Thèse');

    const mail = await portal.documentMails.preview(creditNote.id);
    expect(mail.subject).to.equal(`Votre avoir ${creditNote.number} — devis ${number}`);
    expect(plain(mail.text)).to.include(`Un remboursement a été effectué sur votre paiement du devis ${number}.`).and.include('Montant remboursé : 10,00 €');
  });

  it('keeps the rate on the credit note of a quote with a single rate', async () => {
    const number = await sentQuote(portal, desk, { 'vatRate-1': '20' });
    const customer = await payQuote(portal, number, termsId);
    const order = await orderOf(number);
    await refundAsAdmin(order.number, '6,00');
    const [receipt, creditNote] = await documentsOf(order.id);
    expect(await pdfText(customer, number, receipt.number)).to.include('TVA 20 % sur 47,49 € 7,91 €');
    expect(await pdfText(customer, number, creditNote.number)).to.include('Montant HT 5,00 €').and.include('TVA (20 %) 1,00 €');
  });
});
