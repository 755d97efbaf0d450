import { expect } from 'chai';
import { findDocument, issueDocument, listOrderDocuments } from '../../src/db/documents/document-repository.js';
import { insertOrder } from '../../src/db/checkout/order-repository.js';
import { publishTerms } from '../../src/db/pricing/terms-repository.js';
import { findAccountByUserId, getAccountByCode, postTransaction } from '../../src/db/ledger/ledger-repository.js';
import { DEMO_TERMS } from '../../src/services/demo/demo.js';
import { createDocumentIssuing } from '../../src/services/documents/document-issuing.js';
import { documentSourceKeys, type DocumentKind, type OrderDocumentKind } from '../../src/domain/documents/documents.js';
import { SystemAccount } from '../../src/domain/ledger/ledger.js';
import type { Order } from '../../src/domain/checkout/orders.js';
import type { Quote } from '../../src/domain/pricing/pricing.js';
import { createUserManagement, type UserManagement } from '../../src/services/people/user-management.js';
import type { User } from '../../src/domain/people/users.js';
import { isUniqueViolation } from '../../src/db/database.js';
import { createDocumentFiles, type DocumentFiles } from '../../src/services/documents/document-files.js';
import { createDocumentRenderer, type DocumentRenderer } from '../../src/services/documents/document-renderer.js';
import { findMail } from '../../src/db/mail/mail-outbox-repository.js';
import { loadConfig } from '../../src/config.js';
import { createTranslations } from '../../src/i18n/index.js';
import { createLogger } from '../../src/logger.js';
import { createDocumentMails } from '../../src/services/mail/document-mail.js';
import { createMailDelivery } from '../../src/services/mail/mail-delivery.js';
import { createMailTransport } from '../../src/smtp/transport.js';
import { createTestDatabase, expectLedgerConsistent, testDialect, type TestDatabase } from '../helpers/database.js';
import { TEST_SESSION_SECRET } from '../helpers/portal.js';
import { startSmtpServer } from '../helpers/smtp.js';
import { STALL_TIMEOUT_MS, STALLING_BUYER, stallingRenderer } from '../helpers/stalling-renderer.js';

const QUOTE: Quote = { kind: 'pack', packId: 'pack-10', currency: 'EUR', priceCents: 1000, netCents: 833, vatCents: 167, vatRateBasisPoints: 2000, units: 1000, bonusUnits: 50 };
const SELLER = { name: 'Université Exemple', address: '1 rue des Écoles\n75005 Paris', vatNumber: 'FR00123456789', email: 'compta@example.edu' };

class Rollback extends Error {}

describe(`receipt and credit-note numbers in the database (${testDialect})`, () => {
  let database: TestDatabase;
  let users: UserManagement;
  let buyer: User;
  let termsId: number;
  let now = Date.parse('2026-11-23T10:00:00Z');
  const issuing = createDocumentIssuing({ seller: SELLER, defaultLocale: 'fr', mailDomain: 'recharge.test' });
  const tick = () => new Date((now += 1000));

  const newOrder = (userId = buyer.id) => database.db.transaction((trx) => insertOrder(trx, { userId, quote: QUOTE, termsVersionId: termsId, locale: 'en' }, tick()));
  const issueFor = (order: Order, kind: OrderDocumentKind = 'receipt', key = documentSourceKeys.receipt(order.id)) =>
    database.db.transaction((trx) =>
      issueDocument(trx, { kind, sourceKey: key, orderId: order.id, refundId: null, locale: 'fr', buyer: { name: 'B', username: 'b', email: 'b@example.edu' }, seller: SELLER, brand: null }, tick()),
    );
  /** An order credited the way it was before receipts existed: its ledger posting, and no document. */
  async function creditedLongAgo(order: Order, paidAt: Date): Promise<void> {
    const account = (await findAccountByUserId(database.db.knex, buyer.id))!;
    const posted = await database.db.transaction(async (trx) => {
      const topUps = await getAccountByCode(trx, SystemAccount.topUps);
      return postTransaction(trx, { idempotencyKey: `old-credit:${order.id}`, kind: 'top_up', description: order.number, lines: [{ accountId: account.id, amount: 1050 }, { accountId: topUps.id, amount: -1050 }] }, tick());
    });
    await database.db.knex('orders').where('id', order.id).update({ status: 'paid', ledger_transaction_id: posted.transactionId, paid_at: paidAt.toISOString() });
  }
  const numbers = async (kind: DocumentKind) =>
    (await database.db.knex('documents').where('kind', kind).orderBy('series_number').select('series_number')).map((row: { series_number: unknown }) => Number(row.series_number));

  beforeEach(async () => {
    database = await createTestDatabase();
    const hasher = { hash: async () => 'not-a-real-hash', verify: async () => false };
    users = createUserManagement({ db: database.db, hasher, clock: { now: tick } });
    buyer = await users.addUser({ username: 'zoe', password: null, displayName: 'Ζωή Ёлкина', email: 'zoe@example.edu', role: 'user', locale: null });
    termsId = (await publishTerms(database.db.knex, DEMO_TERMS, tick())).id;
  });
  afterEach(async () => {
    await expectLedgerConsistent(database.db);
    await database.cleanup();
  });

  it('numbers receipts one after the other, apart from order numbers, and issues a document once per source', async () => {
    const first = await newOrder();
    const second = await newOrder();
    const a = await issueFor(first);
    const again = await issueFor(first);
    const b = await issueFor(second);
    expect([a.document.number, b.document.number]).to.deep.equal(['RC-000001', 'RC-000002']);
    expect(again).to.deep.equal({ document: a.document, created: false });
    expect(a.document.number).not.to.equal(first.number);
    expect(await numbers('receipt')).to.deep.equal([1, 2]);
  });

  it('gives a number back when the transaction that took it rolls back', async () => {
    const order = await newOrder();
    const failed = database.db.transaction(async (trx) => {
      await issueDocument(trx, { kind: 'receipt', sourceKey: documentSourceKeys.receipt(order.id), orderId: order.id, refundId: null, locale: 'fr', buyer: { name: 'B', username: 'b', email: '' }, seller: SELLER, brand: null }, tick());
      throw new Rollback();
    });
    expect(await failed.then(() => undefined, (error: unknown) => error)).to.be.instanceOf(Rollback);
    expect((await issueFor(order)).document.number).to.equal('RC-000001');
  });

  it('keeps the series without gaps or repeats when payments are issued at once and some roll back', async () => {
    const orders = await Promise.all(Array.from({ length: 30 }, newOrder));
    const outcomes = await Promise.allSettled(
      orders.map((order, index) =>
        database.db.transaction(async (trx) => {
          const { document } = await issueDocument(trx, { kind: 'receipt', sourceKey: documentSourceKeys.receipt(order.id), orderId: order.id, refundId: null, locale: 'fr', buyer: { name: 'B', username: 'b', email: '' }, seller: SELLER, brand: null }, tick());
          if (index % 3 === 0) throw new Rollback();
          return document.number;
        }),
      ),
    );
    const committed = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    expect(committed).to.have.length(20);
    expect(outcomes.filter((outcome) => outcome.status === 'rejected').every((outcome) => outcome.reason instanceof Rollback)).to.equal(true);
    expect(await numbers('receipt')).to.deep.equal(Array.from({ length: 20 }, (_, index) => index + 1));
    const counter = await database.db.knex('document_series').where('series', 'receipt').first('last_number');
    expect(Number(counter.last_number)).to.equal(20);
  });

  it('numbers credit notes in their own series', async () => {
    const order = await newOrder();
    await issueFor(order);
    const note = await issueFor(order, 'credit_note', documentSourceKeys.creditNote('REFUND-1'));
    expect(note.document.number).to.equal('CN-000001');
    expect((await listOrderDocuments(database.db.knex, order.id)).map((document) => document.number)).to.deep.equal(['RC-000001', 'CN-000001']);
  });

  it('refuses in the database a second document for one source or a second use of a number', async () => {
    const order = await newOrder();
    const { document } = await issueFor(order);
    const row = { kind: 'receipt', order_id: order.id, issued_at: new Date(now).toISOString(), locale: 'fr', buyer_name: 'B', buyer_username: 'b', buyer_email: '', seller_name: 'S', seller_address: '', seller_vat_number: '', seller_email: '' };
    const sameSource = database.db.knex('documents').insert({ ...row, source_key: documentSourceKeys.receipt(order.id), series_number: 2, number: 'RC-000002' });
    const sameNumber = database.db.knex('documents').insert({ ...row, source_key: 'receipt:other', series_number: document.seriesNumber, number: 'RC-000009' });
    for (const attempt of [sameSource, sameNumber]) {
      const error = await attempt.then(() => undefined, (caught: unknown) => caught);
      expect(isUniqueViolation(error), String(error)).to.equal(true);
    }
  });

  it('copies buyer and seller into the receipt, in the language the buyer ordered in, and queues one mail', async () => {
    const order = await newOrder();
    const issue = () => database.db.transaction((trx) => issuing.issueReceipt(trx, order, tick()));
    const { document } = await issue();
    await issue();
    expect(document).to.deep.include({ locale: 'en', buyer: { name: 'Ζωή Ёлкина', username: 'zoe', email: 'zoe@example.edu' }, seller: SELLER });
    const mails = await database.db.knex('mail_outbox').select('document_id', 'recipient', 'status', 'message_id');
    expect(mails).to.have.length(1);
    expect(mails[0]).to.deep.include({ document_id: document.id, recipient: 'zoe@example.edu', status: 'pending' });
    expect(mails[0].message_id).to.match(/^<RC-000001\.[0-9a-f]{16}@recharge\.test>$/);
  });

  it('issues the documents missing for payments and refunds recorded before receipts existed, oldest first, without mail', async () => {
    const orders = [await newOrder(), await newOrder()];
    for (const [index, order] of [...orders].reverse().entries()) await creditedLongAgo(order, new Date(Date.parse('2026-10-01T00:00:00Z') + index * 60_000));
    await database.db.knex('payment_refunds').insert({ refund_id: 'OLD-REFUND', order_id: orders[0]!.id, currency: 'EUR', amount_cents: 500, net_cents: 417, vat_cents: 83, created_at: new Date(now).toISOString() });

    const issued = await issuing.issueMissing(database.db, tick());
    expect(issued.map((document) => [document.number, document.orderId, document.refundId])).to.deep.equal([
      ['RC-000001', orders[1]!.id, null],
      ['RC-000002', orders[0]!.id, null],
      ['CN-000001', orders[0]!.id, 'OLD-REFUND'],
    ]);
    expect(await issuing.issueMissing(database.db, tick())).to.deep.equal([]);
    const queued = await database.db.knex('mail_outbox').count({ total: '*' }).first();
    expect(Number(queued?.total)).to.equal(0);
  });

  it('issues each missing document once when two instances start together', async () => {
    for (const order of await Promise.all(Array.from({ length: 8 }, newOrder))) await creditedLongAgo(order, new Date(now));
    const [first, second] = await Promise.all([issuing.issueMissing(database.db, tick()), issuing.issueMissing(database.db, tick())]);
    expect([...first!, ...second!].map((document) => document.seriesNumber).sort((a, b) => a - b)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(await numbers('receipt')).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8]);
    const queued = await database.db.knex('mail_outbox').count({ total: '*' }).first();
    expect(Number(queued?.total)).to.equal(0);
  });

  const brand = { organisationName: 'Recharge', accentColour: '#1d4f91', logo: 'theme:default/assets/logo.svg' };
  /** Receipts as PDF files, for one instance of the portal. */
  const documentFiles = ({ timeZone = 'Europe/Paris', renderer = createDocumentRenderer() }: { timeZone?: string; renderer?: DocumentRenderer } = {}) =>
    createDocumentFiles({
      db: database.db,
      clock: { now: tick },
      logger: createLogger({ log: { level: 'silent' } }),
      timeZone,
      publicUrl: 'https://print.example.edu',
      renderer,
      currentBrand: async () => brand,
      drawBrand: async ({ organisationName, accentColour }) => ({ organisationName, accentColour, logoPng: null }),
    });

  it('stores one rendition per document and language when two instances render it at once, and both serve the stored one', async () => {
    const { document } = await issueFor(await newOrder());
    // Two instances that draw different bytes for the same document: their time zones print the issue time differently.
    const instances = ['Europe/Paris', 'America/New_York'].map((timeZone) => documentFiles({ timeZone }));
    try {
      const served = await Promise.all(instances.map((files) => files.pdf(document, 'fr')));
      const rows = await database.db.knex('document_files').where('document_id', document.id);
      expect(rows.map((row: { locale: string }) => row.locale)).to.deep.equal(['fr']);
      expect(served.map((pdf) => pdf.equals(rows[0].pdf as Buffer))).to.deep.equal([true, true]);
      // Issued without a look (as the command line issues), it keeps the one of its first rendering.
      expect((await findDocument(database.db.knex, { id: document.id }))!.brand).to.deep.equal(brand);
    } finally {
      await Promise.all(instances.map((files) => files.close()));
    }
  });

  it('keeps a stored rendition as it is: the database refuses to change, delete or truncate it', async () => {
    const { document } = await issueFor(await newOrder());
    const files = documentFiles();
    try {
      const pdf = await files.pdf(document, 'fr');
      const knex = database.db.knex;
      const attempts = [
        knex('document_files').where('document_id', document.id).update({ pdf: Buffer.from('%PDF-forged') }),
        knex('document_files').where('document_id', document.id).update({ locale: 'en' }),
        knex('document_files').where('document_id', document.id).del(),
        ...(testDialect === 'postgres' ? [knex.raw('TRUNCATE document_files')] : []),
      ];
      for (const attempt of attempts) {
        const error = await attempt.then(() => undefined, (caught: unknown) => caught as Error);
        expect(error?.message).to.match(/document_files is append-only: (UPDATE|DELETE|TRUNCATE) refused/);
      }
      const rows = await knex('document_files').where('document_id', document.id);
      expect(rows.map((row: { locale: string; pdf: Buffer }) => [row.locale, row.pdf.equals(pdf)])).to.deep.equal([['fr', true]]);
    } finally {
      await files.close();
    }
  });

  const issueReceipt = async (order: Order) => (await database.db.transaction((trx) => issuing.issueReceipt(trx, order, tick()))).document;
  /** The outbox's delivery as `env` configures it (MAIL_DELIVERY, SMTP_…), its PDFs from `files`. */
  function mailDelivery(files: DocumentFiles, env: Record<string, string>) {
    const config = loadConfig({ env: { NODE_ENV: 'test', SESSION_SECRET: TEST_SESSION_SECRET, DATABASE_URL: database.url, ...env } });
    const mails = createDocumentMails({ db: database.db, translations: createTranslations(), files, from: config.mail.from, publicUrl: config.server.publicUrl, timeZone: 'Europe/Paris' });
    const delivery = createMailDelivery({
      db: database.db,
      clock: { now: tick },
      logger: createLogger({ log: { level: 'silent' } }),
      transport: createMailTransport(config.mail),
      compose: (mail) => mails.compose(mail.documentId!),
      giveUpAfterMs: 3600_000,
      mailDomain: 'univ.example',
      deliverOnIssue: false,
    });
    return { config, mails, delivery };
  }
  const storedDocumentIds = async () => (await database.db.knex('document_files').select('document_id')).map((row: { document_id: unknown }) => Number(row.document_id));

  it('goes on mailing the other receipts while the render thread hangs over one, and retries that one later', async () => {
    const stalled = await users.addUser({ username: 'boucle', password: null, displayName: STALLING_BUYER, email: 'boucle@example.edu', role: 'user', locale: null });
    // The hanging one first in the outbox, so that the other waits behind it.
    const hanging = await issueReceipt(await newOrder(stalled.id));
    const fine = await issueReceipt(await newOrder());
    const files = documentFiles({ renderer: stallingRenderer() });
    const smtp = await startSmtpServer();
    try {
      const { delivery } = mailDelivery(files, { MAIL_DELIVERY: 'smtp', SMTP_HOST: '127.0.0.1', SMTP_PORT: String(smtp.port) });
      expect(await delivery.deliverDue()).to.deep.equal({ sent: 1, kept: 0, retrying: 1, failed: 0 });
      expect(await findMail(database.db.knex, { documentId: hanging.id })).to.include({
        status: 'pending',
        attempts: 1,
        lastError: `compose: the render thread took more than ${STALL_TIMEOUT_MS} ms over a document and was stopped`,
      });
      expect(await findMail(database.db.knex, { documentId: fine.id })).to.include({ status: 'sent', attempts: 1 });
      expect(smtp.messages.map((message) => message.to)).to.deep.equal([['zoe@example.edu']]);
      expect(await storedDocumentIds()).to.deep.equal([fine.id]);
    } finally {
      await files.close();
      await smtp.stop();
    }
  });

  it('keeps a mail without drawing its PDF, naming it all the same; the first download draws and stores it', async () => {
    const receipt = await issueReceipt(await newOrder());
    const renderer = createDocumentRenderer();
    const drawn: string[] = [];
    const files = documentFiles({
      renderer: {
        ...renderer,
        render: (job) => {
          drawn.push(job.view.document.number);
          return renderer.render(job);
        },
      },
    });
    try {
      const { config, mails, delivery } = mailDelivery(files, {});
      expect(config.mail.delivery).to.equal('keep');
      expect(await delivery.deliverDue()).to.deep.equal({ sent: 0, kept: 1, retrying: 0, failed: 0 });
      expect(await findMail(database.db.knex, { documentId: receipt.id })).to.include({ status: 'kept', attempts: 1 });
      // What it would have attached, as the admin mailbox shows it, still without drawing it.
      expect((await mails.preview(receipt.id)).attachmentName).to.equal(`${receipt.number}.pdf`);
      expect((await mails.compose(receipt.id)).attachments.map(({ filename, contentType }) => [filename, contentType])).to.deep.equal([[`${receipt.number}.pdf`, 'application/pdf']]);
      expect(drawn).to.deep.equal([]);
      const pdf = await files.pdf(receipt);
      expect(pdf.subarray(0, 5).toString('latin1')).to.equal('%PDF-');
      expect([drawn, await storedDocumentIds()]).to.deep.equal([[receipt.number], [receipt.id]]);
    } finally {
      await files.close();
    }
  });
});
