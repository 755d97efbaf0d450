import { Writable } from 'node:stream';
import { expect } from 'chai';
import supertest from 'supertest';
import { listOrderDocuments } from '../../src/db/documents/document-repository.js';
import { claimMail, findMail, finishAttempt, requeueFailedMail, type OutboxMail } from '../../src/db/mail/mail-outbox-repository.js';
import type { IssuedDocument } from '../../src/domain/documents/documents.js';
import { parseOrderNumber } from '../../src/domain/checkout/orders.js';
import { createLogger } from '../../src/logger.js';
import { createMailDelivery } from '../../src/services/mail/mail-delivery.js';
import { retryDelayMs } from '../../src/domain/shared/retry-delay.js';
import { createMailTransport } from '../../src/smtp/transport.js';
import { testDialect } from '../helpers/database.js';
import { readPdf } from '../helpers/pdf-text.js';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';
import { startSmtpServer, type ReceivedMail, type TestSmtpServer } from '../helpers/smtp.js';
import { balanceOf, pathOf, pay, placeOrder, publishOffers, restorePayments } from '../helpers/topup.js';

type Agent = ReturnType<typeof supertest.agent>;

const PASSWORD = 'a good long password';
/** Intl puts narrow no-break spaces in French amounts ("20,00\u202f€"); compare with plain spaces. */
const plain = (text: string) => text.replace(/[\u202f\u00a0]/g, ' ');
const SECOND = 1000;
const HOUR = 3600 * SECOND;

interface Buyer {
  id: number;
  email: string;
  agent: Agent;
}

interface Payment {
  number: string;
  orderId: number;
  /** How long the return page took to answer 303. */
  returnMs: number;
}

let buyers = 0;

/** A person of their own for each test (their address tells their mails apart), logged in. */
async function newBuyer(portal: TestPortal, { locale = 'fr', name }: { locale?: 'fr' | 'en'; name: string }): Promise<Buyer> {
  buyers += 1;
  const username = `buyer${buyers}`;
  const email = `${username}@example.edu`;
  const user = await portal.addUser(username, PASSWORD, { displayName: name, email });
  // Their chosen language, as the preference form records it.
  await portal.db.knex('users').where('id', user.id).update({ locale });
  const agent = supertest.agent(portal.app);
  await logIn(agent, username, PASSWORD);
  return { id: user.id, email, agent };
}

/** Pays an order through the simulator; the return page, PayPal's webhooks and the reconciler all confirm it. */
async function buy(portal: TestPortal, buyer: Buyer, offer: string, termsId: number): Promise<Payment> {
  const number = await placeOrder(buyer.agent, { offer, terms: String(termsId) });
  const paypalOrderId = await pay(buyer.agent, portal, number);
  const returnPath = pathOf(portal.simulator.approve(paypalOrderId));
  const started = Date.now();
  const back = await buyer.agent.get(returnPath);
  const returnMs = Date.now() - started;
  expect(back.status).to.equal(303);
  expect(back.headers.location).to.equal(`/orders/${number}`);
  await portal.simulator.flushWebhooks();
  await portal.checkout.reconcile();
  return { number, orderId: parseOrderNumber(number)!, returnMs };
}

async function documentsOf(portal: TestPortal, payment: Payment): Promise<IssuedDocument[]> {
  return listOrderDocuments(portal.db.knex, payment.orderId);
}

async function receiptMail(portal: TestPortal, payment: Payment): Promise<{ receipt: IssuedDocument; mail: OutboxMail }> {
  const [receipt] = await documentsOf(portal, payment);
  expect(receipt?.kind).to.equal('receipt');
  const mail = await findMail(portal.db.knex, { documentId: receipt!.id });
  expect(mail, `mail of ${receipt!.number}`).to.not.equal(undefined);
  return { receipt: receipt!, mail: mail! };
}

function pdfAttachmentOf(message: ReceivedMail) {
  expect(message.parsed.attachments).to.have.length(1);
  const [attachment] = message.parsed.attachments;
  expect(attachment!.contentType).to.equal('application/pdf');
  expect(attachment!.content.subarray(0, 5).toString('latin1')).to.equal('%PDF-');
  return attachment!;
}

/** A logger whose lines the test can read. */
function capturedLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ log: { level: 'info' } }, destination), lines };
}

describe(`receipts and credit notes by e-mail through SMTP (${testDialect})`, () => {
  let smtp: TestSmtpServer;
  let portal: TestPortal;
  let termsId: number;

  before(async () => {
    smtp = await startSmtpServer();
    portal = await createTestPortal({
      MAIL_DELIVERY: 'smtp',
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      MAIL_FROM: 'Université Exemple <recus@univ.example>',
      MAIL_GIVE_UP_HOURS: '1',
      SELLER_NAME: 'Université Exemple',
      SELLER_EMAIL: 'compta@univ.example',
    });
    termsId = await publishOffers(portal);
  });
  afterEach(async () => {
    smtp.refuse = null;
    await smtp.start();
    await restorePayments(portal);
  });
  after(async () => {
    await portal.cleanup();
    await smtp.stop();
  });

  it('mails one receipt, in French, for an order the return page, the webhook and the reconciler all confirmed', async () => {
    const buyer = await newBuyer(portal, { name: 'Camille Martin' });
    const payment = await buy(portal, buyer, 'pack-20', termsId);
    const { receipt, mail } = await receiptMail(portal, payment);
    expect(mail).to.include({ status: 'pending', recipient: buyer.email, attempts: 0 });
    expect(smtp.messagesTo(buyer.email)).to.deep.equal([]); // nothing is sent by the payment itself

    expect(await portal.mail.deliverDue()).to.deep.equal({ sent: 1, kept: 0, retrying: 0, failed: 0 });
    const [message, ...more] = smtp.messagesTo(buyer.email);
    expect(more).to.deep.equal([]);
    expect(message!.to).to.deep.equal([buyer.email]);
    expect(message!.parsed.from?.value).to.deep.equal([{ name: 'Université Exemple', address: 'recus@univ.example' }]);
    expect(message!.parsed.messageId).to.equal(mail.messageId);
    expect(receipt.number).to.match(/^RC-\d{6}$/);
    expect(message!.parsed.subject).to.equal(`Votre reçu ${receipt.number} — commande ${payment.number}`);
    const attachment = pdfAttachmentOf(message!);
    expect(attachment.filename).to.equal(`${receipt.number}.pdf`);
    // The attached PDF is the receipt as stored, the bytes the buyer downloads, read back as a mail client's viewer would.
    const stored = await portal.db.knex('document_files').where({ document_id: receipt.id, locale: 'fr' }).first('pdf');
    expect(attachment.content.equals(stored.pdf as Buffer)).to.equal(true);
    const pdf = plain((await readPdf(attachment.content)).text);
    for (const expected of ['Reçu', receipt.number, `Commande ${payment.number}`, 'Montant HT 16,67 €', 'TVA (20 %) 3,33 €', 'Total TTC 20,00 €', 'Camille Martin']) {
      expect(pdf).to.include(expected);
    }
    const text = plain(message!.parsed.text ?? '');
    for (const expected of [
      'Bonjour Camille Martin,',
      `votre reçu ${receipt.number} (PDF) pour la commande ${payment.number}`,
      'Montant payé : 20,00 €',
      'Unités créditées sur votre compte : 22,00 unités',
      'Dont bonus offert : 2,00 unités',
      `${portal.config.server.publicUrl}/orders/${payment.number}`,
      'compta@univ.example',
      'Cordialement,\nUniversité Exemple',
    ]) {
      expect(text).to.include(expected);
    }
    const sent = await findMail(portal.db.knex, { documentId: receipt.id });
    expect(sent).to.include({ status: 'sent', attempts: 1, lastError: null });
    expect(sent!.sentAt?.toISOString()).to.equal(portal.clock.now().toISOString());

    // Confirmed once more, delivered once more: nothing new.
    await portal.checkout.reconcile();
    await portal.simulator.flushWebhooks();
    expect(await portal.mail.deliverDue()).to.deep.equal({ sent: 0, kept: 0, retrying: 0, failed: 0 });
    expect(smtp.messagesTo(buyer.email)).to.have.length(1);
  });

  it('writes to an English-speaking buyer in English', async () => {
    const buyer = await newBuyer(portal, { name: 'Alex Smith', locale: 'en' });
    const payment = await buy(portal, buyer, 'pack-10', termsId);
    const { receipt } = await receiptMail(portal, payment);
    await portal.mail.deliverDue();
    const [message] = smtp.messagesTo(buyer.email);
    expect(message!.parsed.subject).to.equal(`Your receipt ${receipt.number} — order ${payment.number}`);
    const text = message!.parsed.text ?? '';
    for (const expected of ['Hello Alex Smith,', 'Amount paid: €10.00', 'Units credited to your account: 10.00 units', 'Kind regards,\nUniversité Exemple']) {
      expect(text).to.include(expected);
    }
    expect(text).not.to.include('bonus');
    expect(pdfAttachmentOf(message!).filename).to.equal(`${receipt.number}.pdf`);
  });

  it('mails exactly one receipt per order when several orders are paid and their confirmations race', async () => {
    const buyers = await Promise.all(['Lou', 'Sam', 'Noa'].map((name) => newBuyer(portal, { name })));
    const payments: Payment[] = [];
    for (const buyer of buyers) {
      const number = await placeOrder(buyer.agent, { offer: 'pack-5', terms: String(termsId) });
      const returnPath = pathOf(portal.simulator.approve(await pay(buyer.agent, portal, number)));
      await Promise.all([...Array.from({ length: 4 }, () => buyer.agent.get(returnPath)), portal.checkout.reconcile()]);
      payments.push({ number, orderId: parseOrderNumber(number)!, returnMs: 0 });
    }
    await portal.simulator.flushWebhooks();
    expect((await portal.mail.deliverDue()).sent).to.equal(3);
    expect(await portal.mail.deliverDue()).to.include({ sent: 0 });
    for (const [index, buyer] of buyers.entries()) {
      const { receipt } = await receiptMail(portal, payments[index]!);
      const messages = smtp.messagesTo(buyer.email);
      expect(messages.map((message) => message.parsed.subject)).to.deep.equal([`Votre reçu ${receipt.number} — commande ${payments[index]!.number}`]);
    }
  });

  it('keeps the mail pending while the SMTP server is down, without holding up the payment, and delivers it once after the backoff', async () => {
    const buyer = await newBuyer(portal, { name: 'Camille Down' });
    await smtp.stop();
    const payment = await buy(portal, buyer, 'pack-20', termsId);
    expect(payment.returnMs).to.be.below(2000);
    expect(await balanceOf(portal, buyer.id)).to.equal(2200);

    expect(await portal.mail.deliverDue()).to.deep.equal({ sent: 0, kept: 0, retrying: 1, failed: 0 });
    const { mail } = await receiptMail(portal, payment);
    expect(mail).to.include({ status: 'pending', attempts: 1 });
    expect(mail.lastError).to.match(/ECONNREFUSED/);
    expect(mail.nextAttemptAt.getTime()).to.equal(portal.clock.now().getTime() + retryDelayMs(1));

    await smtp.start();
    portal.clock.advance(retryDelayMs(1) - SECOND);
    expect(await portal.mail.deliverDue()).to.deep.equal({ sent: 0, kept: 0, retrying: 0, failed: 0 });
    expect(smtp.messagesTo(buyer.email)).to.deep.equal([]);

    portal.clock.advance(2 * SECOND);
    expect(await portal.mail.deliverDue()).to.deep.equal({ sent: 1, kept: 0, retrying: 0, failed: 0 });
    await portal.mail.deliverDue();
    expect(smtp.messagesTo(buyer.email)).to.have.length(1);
    expect(await findMail(portal.db.knex, { documentId: mail.documentId! })).to.include({ status: 'sent', attempts: 2 });
  });

  it('fails a mail refused with 550 at once and never tries it again', async () => {
    const buyer = await newBuyer(portal, { name: 'Gone Away' });
    smtp.refuse = (address) => (address === buyer.email ? { code: 550, message: '5.1.1 No such user' } : null);
    const payment = await buy(portal, buyer, 'pack-5', termsId);
    expect(await portal.mail.deliverDue()).to.deep.equal({ sent: 0, kept: 0, retrying: 0, failed: 1 });
    const { mail } = await receiptMail(portal, payment);
    expect(mail).to.include({ status: 'failed', attempts: 1 });
    expect(mail.lastError).to.include('550').and.include('No such user');

    smtp.refuse = null;
    portal.clock.advance(2 * HOUR);
    expect(await portal.mail.deliverDue()).to.include({ failed: 0, sent: 0 });
    expect(smtp.messagesTo(buyer.email)).to.deep.equal([]);
    expect(await findMail(portal.db.knex, { documentId: mail.documentId! })).to.include({ status: 'failed', attempts: 1 });
  });

  it('gives up after MAIL_GIVE_UP_HOURS of temporary failures, trying until then', async () => {
    const buyer = await newBuyer(portal, { name: 'Long Outage' });
    smtp.refuse = (address) => (address === buyer.email ? { code: 451, message: '4.3.0 Try again later' } : null);
    const payment = await buy(portal, buyer, 'pack-5', termsId);
    const { mail: queued } = await receiptMail(portal, payment);
    const outcomes: Array<[number, string]> = [];
    for (let attempt = 1; attempt <= 20; attempt += 1) {
      await portal.mail.deliverDue();
      const mail = (await findMail(portal.db.knex, { documentId: queued.documentId! }))!;
      outcomes.push([portal.clock.now().getTime() - queued.createdAt.getTime(), mail.status]);
      if (mail.status !== 'pending') break;
      expect(mail.lastError).to.include('451');
      portal.clock.advance(mail.nextAttemptAt.getTime() - portal.clock.now().getTime());
    }
    // Tried at 0, 1, 3, 7, 15, 31 and 63 minutes: failed at the first failure past the hour.
    expect(outcomes.map(([elapsed]) => elapsed / 60_000)).to.deep.equal([0, 1, 3, 7, 15, 31, 63]);
    expect(outcomes.map(([, status]) => status)).to.deep.equal([...Array(6).fill('pending'), 'failed']);
    const failed = await findMail(portal.db.knex, { documentId: queued.documentId! });
    expect(failed).to.include({ status: 'failed', attempts: 7 });
    expect(failed!.lastError).to.include('451');
    expect(smtp.messagesTo(buyer.email)).to.deep.equal([]);

    // An admin puts it back while the server still answers 451: it is tried for as long as a new mail, not failed at once.
    expect(await requeueFailedMail(portal.db.knex, queued.id, portal.clock.now())).to.equal(true);
    expect(await portal.mail.deliverDue()).to.include({ retrying: 1, failed: 0 });
    expect(await findMail(portal.db.knex, queued.id)).to.include({ status: 'pending', attempts: 8 });
    smtp.refuse = null;
    portal.clock.advance(HOUR);
    expect(await portal.mail.deliverDue()).to.include({ sent: 1 });
    expect(smtp.messagesTo(buyer.email)).to.have.length(1);
  });

  it('sends each mail once when deliveries run at once in this process and in two others', async () => {
    const buyers = await Promise.all(['Ana', 'Ben', 'Cy', 'Dee'].map((name) => newBuyer(portal, { name })));
    for (const buyer of buyers) await buy(portal, buyer, 'pack-5', termsId);
    // Two more portal processes over the same database: their own delivery, their own connections.
    const others = [1, 2].map(() =>
      createMailDelivery({
        db: portal.db,
        clock: portal.clock,
        logger: capturedLogger().logger,
        transport: createMailTransport(portal.config.mail),
        compose: portal.outboxMails.compose,
        giveUpAfterMs: HOUR,
        mailDomain: 'univ.example',
        deliverOnIssue: false,
      }),
    );
    const results = await Promise.all([portal.mail.deliverDue(), portal.mail.deliverDue(), ...others.map((other) => other.deliverDue())]);
    expect(results.reduce((sum, counts) => sum + counts.sent, 0)).to.equal(4);
    for (const buyer of buyers) expect(smtp.messagesTo(buyer.email), buyer.email).to.have.length(1);
  });

  it('takes over a mail whose holder died after claiming it, once its lease has run out, and sends it once', async () => {
    const buyer = await newBuyer(portal, { name: 'Lease Lost' });
    const payment = await buy(portal, buyer, 'pack-5', termsId);
    const { mail } = await receiptMail(portal, payment);
    const dead = (await claimMail(portal.db.knex, mail.id, portal.clock.now(), 2 * 60 * SECOND))!;
    expect(dead).to.include({ status: 'sending', attempts: 1 });

    expect(await portal.mail.deliverDue()).to.include({ sent: 0 });
    portal.clock.advance(2 * 60 * SECOND + SECOND);
    expect(await portal.mail.deliverDue()).to.include({ sent: 1 });
    expect(smtp.messagesTo(buyer.email)).to.have.length(1);
    expect(smtp.messagesTo(buyer.email)[0]!.parsed.messageId).to.equal(mail.messageId);

    // The dead holder waking up late cannot overwrite what the new one recorded.
    expect(await finishAttempt(portal.db.knex, dead, { status: 'failed', error: 'late' }, portal.clock.now())).to.equal(false);
    expect(await findMail(portal.db.knex, { documentId: mail.documentId! })).to.include({ status: 'sent', attempts: 2, lastError: null });
    expect(await portal.mail.deliverDue()).to.include({ sent: 0 });
    expect(smtp.messagesTo(buyer.email)).to.have.length(1);
  });

  it('retries a mail that cannot be composed, logs why, and still sends the others', async () => {
    const [broken, fine] = await Promise.all([newBuyer(portal, { name: 'Broken Pdf' }), newBuyer(portal, { name: 'Fine Pdf' })]);
    const brokenPayment = await buy(portal, broken, 'pack-5', termsId);
    await buy(portal, fine, 'pack-5', termsId);
    const { mail: brokenMail } = await receiptMail(portal, brokenPayment);
    const captured = capturedLogger();
    const delivery = createMailDelivery({
      db: portal.db,
      clock: portal.clock,
      logger: captured.logger,
      transport: createMailTransport(portal.config.mail),
      compose: async (mail) => {
        if (mail.documentId === brokenMail.documentId) throw new Error('PDF rendering bug');
        return portal.outboxMails.compose(mail);
      },
      giveUpAfterMs: HOUR,
      mailDomain: 'univ.example',
      deliverOnIssue: false,
    });
    expect(await delivery.deliverDue()).to.deep.equal({ sent: 1, kept: 0, retrying: 1, failed: 0 });
    expect(smtp.messagesTo(fine.email)).to.have.length(1);
    expect(smtp.messagesTo(broken.email)).to.deep.equal([]);
    const pending = await findMail(portal.db.knex, { documentId: brokenMail.documentId! });
    expect(pending).to.include({ status: 'pending', attempts: 1, lastError: 'compose: PDF rendering bug' });
    expect(captured.lines.find((line) => line.msg === 'cannot compose mail')).to.include({ mailId: brokenMail.id, level: 50 });

    // Fixed (the portal's own composer): delivered at its next attempt.
    portal.clock.advance(retryDelayMs(1));
    expect(await portal.mail.deliverDue()).to.include({ sent: 1 });
    expect(smtp.messagesTo(broken.email)).to.have.length(1);
  });

  it('mails one credit note for a refund made by an admin', async () => {
    const buyer = await newBuyer(portal, { name: 'Camille Refund' });
    const payment = await buy(portal, buyer, 'pack-20', termsId);
    await portal.mail.deliverDue();
    const admin = supertest.agent(portal.app);
    await portal.addUser(`gestion${payment.orderId}`, PASSWORD, { role: 'admin' });
    await logIn(admin, `gestion${payment.orderId}`, PASSWORD);
    const page = (await admin.get(`/admin/orders/${payment.number}`).expect(200)).text;
    const nonce = /name="nonce" value="([^"]+)"/.exec(page)![1]!;
    const refunded = await admin.post(`/admin/orders/${payment.number}/refund`).type('form').send({ _csrf: csrfTokenFrom(page), amount: '5,00', nonce, reason: 'Geste commercial' });
    expect(refunded.status).to.equal(303);
    await portal.simulator.flushWebhooks();
    await portal.checkout.reconcile();

    expect(await portal.mail.deliverDue()).to.deep.equal({ sent: 1, kept: 0, retrying: 0, failed: 0 });
    expect(await portal.mail.deliverDue()).to.include({ sent: 0 });
    const creditNote = (await documentsOf(portal, payment)).find((document) => document.kind === 'credit_note')!;
    expect(creditNote.number).to.match(/^CN-\d{6}$/);
    const messages = smtp.messagesTo(buyer.email);
    expect(messages.map((message) => message.parsed.subject)).to.have.length(2);
    const message = messages.find((candidate) => candidate.parsed.subject?.startsWith('Votre avoir'))!;
    expect(message.parsed.subject).to.equal(`Votre avoir ${creditNote.number} — commande ${payment.number}`);
    expect(pdfAttachmentOf(message).filename).to.equal(`${creditNote.number}.pdf`);
    const text = plain(message.parsed.text ?? '');
    expect(text).to.include(`l'avoir ${creditNote.number} (PDF)`).and.include('Montant remboursé : 5,00 €').and.not.include('Unités créditées');
    expect(await findMail(portal.db.knex, { documentId: creditNote.id })).to.include({ status: 'sent', recipient: buyer.email });
  });
});

describe(`receipts mailed as soon as they are issued (${testDialect})`, () => {
  let smtp: TestSmtpServer;
  let portal: TestPortal;
  let termsId: number;

  before(async () => {
    smtp = await startSmtpServer();
    portal = await createTestPortal({ MAIL_DELIVERY: 'smtp', SMTP_HOST: '127.0.0.1', SMTP_PORT: String(smtp.port), MAIL_SEND_ON_ISSUE: 'true' });
    termsId = await publishOffers(portal);
  });
  afterEach(async () => {
    await portal.mail.idle();
    await smtp.start();
    await restorePayments(portal);
  });
  after(async () => {
    await portal.cleanup();
    await smtp.stop();
  });

  it('sends the receipt after the return page without anyone asking for a delivery run', async () => {
    const buyer = await newBuyer(portal, { name: 'Quick Mail' });
    const payment = await buy(portal, buyer, 'pack-20', termsId);
    await portal.mail.idle();
    const { receipt, mail } = await receiptMail(portal, payment);
    expect(mail).to.include({ status: 'sent', attempts: 1 });
    const messages = smtp.messagesTo(buyer.email);
    expect(messages.map((message) => message.parsed.subject)).to.deep.equal([`Votre reçu ${receipt.number} — commande ${payment.number}`]);
  });

  it('answers the return page at once and credits the units when the SMTP server is down', async () => {
    const buyer = await newBuyer(portal, { name: 'Still Paid' });
    await smtp.stop();
    const payment = await buy(portal, buyer, 'pack-20', termsId);
    expect(payment.returnMs).to.be.below(2000);
    expect(await balanceOf(portal, buyer.id)).to.equal(2200);
    await portal.mail.idle();
    const { mail } = await receiptMail(portal, payment);
    expect(mail).to.include({ status: 'pending', attempts: 1 });
    expect(mail.lastError).to.match(/ECONNREFUSED/);

    await smtp.start();
    portal.clock.advance(retryDelayMs(1));
    expect(await portal.mail.deliverDue()).to.include({ sent: 1 });
    expect(smtp.messagesTo(buyer.email)).to.have.length(1);
  });
});

describe(`receipts kept for admins instead of mailed (default "keep" delivery, ${testDialect})`, () => {
  let smtp: TestSmtpServer;
  let portal: TestPortal;
  let termsId: number;

  before(async () => {
    smtp = await startSmtpServer();
    // An SMTP server is configured and listening, but delivery is "keep": it must hear nothing.
    portal = await createTestPortal({ SMTP_HOST: '127.0.0.1', SMTP_PORT: String(smtp.port) });
    termsId = await publishOffers(portal);
  });
  afterEach(() => restorePayments(portal));
  after(async () => {
    await portal.cleanup();
    await smtp.stop();
  });

  it('marks the mail kept, sends nothing, and can still show what it would have sent', async () => {
    expect(portal.config.mail.delivery).to.equal('keep');
    const buyer = await newBuyer(portal, { name: 'Demo Buyer' });
    const payment = await buy(portal, buyer, 'pack-20', termsId);
    expect(await portal.mail.deliverDue()).to.deep.equal({ sent: 0, kept: 1, retrying: 0, failed: 0 });
    expect(await portal.mail.deliverDue()).to.deep.equal({ sent: 0, kept: 0, retrying: 0, failed: 0 });
    const { receipt, mail } = await receiptMail(portal, payment);
    expect(mail).to.include({ status: 'kept', attempts: 1, recipient: buyer.email });
    expect(mail.sentAt).to.not.equal(null);
    expect([smtp.connections, smtp.messages.length]).to.deep.equal([0, 0]);

    const composed = await portal.documentMails.compose(receipt.id);
    expect(composed.subject).to.equal(`Votre reçu ${receipt.number} — commande ${payment.number}`);
    expect(plain(composed.text)).to.include('Montant payé : 20,00 €');
    const attached = await Promise.all(composed.attachments.map(async ({ filename, contentType, content }) => [filename, contentType, (await content()).subarray(0, 5).toString('latin1')]));
    expect(attached).to.deep.equal([[`${receipt.number}.pdf`, 'application/pdf', '%PDF-']]);
  });

  it('draws no PDF for a kept mail: the receipt is drawn, and stored once, when it is first downloaded', async () => {
    const buyer = await newBuyer(portal, { name: 'Alex Kept' });
    const payment = await buy(portal, buyer, 'pack-10', termsId);
    await portal.mail.deliverDue();
    await portal.documentFiles.idle();
    const { receipt } = await receiptMail(portal, payment);
    const rendered = () => portal.logs.filter((line) => line.msg === 'document rendered' && line.document === receipt.number).length;
    const stored = async () => (await portal.db.knex('document_files').where('document_id', receipt.id)).length;
    expect([rendered(), await stored()]).to.deep.equal([0, 0]);
    for (let download = 0; download < 2; download += 1) {
      const response = await buyer.agent.get(`/documents/${receipt.number}.pdf`).buffer(true).expect(200);
      expect(response.headers['content-type']).to.equal('application/pdf');
    }
    expect([rendered(), await stored()]).to.deep.equal([1, 1]);
  });
});
