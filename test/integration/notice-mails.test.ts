import { expect } from 'chai';
import supertest from 'supertest';
import { enqueueNoticeMail, findMail } from '../../src/db/mail/mail-outbox-repository.js';
import { createTranslations } from '../../src/i18n/index.js';
import { createLogger } from '../../src/logger.js';
import { createMailDelivery } from '../../src/services/mail/mail-delivery.js';
import { createNoticeMails, queueNotice, type NoticeWriter } from '../../src/services/mail/notices.js';
import { createOutboxMails } from '../../src/services/mail/outbox-mails.js';
import { createMailTransport } from '../../src/smtp/transport.js';
import { testDialect } from '../helpers/database.js';
import { createTestPortal, logIn, type TestPortal } from '../helpers/portal.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';

/** A kind of notice of the test's own, written from its parameters in the notice's language. */
const writers: Record<string, NoticeWriter> = {
  'test.reminder': (params, t, { publicUrl, locale }) => ({
    subject: `${locale === 'fr' ? 'Rappel' : 'Reminder'} ${String(params.what)}`,
    paragraphs: [[t('myAccount.creditAndData.title')], [`${publicUrl}/topup`]],
  }),
};

describe(`notice mails: mails with no document, through the outbox (${testDialect})`, () => {
  let smtp: TestSmtpServer;
  let portal: TestPortal;

  before(async () => {
    smtp = await startSmtpServer();
    portal = await createTestPortal({ MAIL_DELIVERY: 'smtp', SMTP_HOST: '127.0.0.1', SMTP_PORT: String(smtp.port), MAIL_FROM: 'Recharge <recharge@univ.example>' });
  });
  after(async () => {
    await portal.cleanup();
    await smtp.stop();
  });

  const noticeMails = () =>
    createNoticeMails({ translations: createTranslations(), from: portal.config.mail.from, publicUrl: portal.config.server.publicUrl, timeZone: 'Europe/Paris', writers });
  const delivery = () =>
    createMailDelivery({
      db: portal.db,
      clock: portal.clock,
      logger: createLogger({ log: { level: 'silent' } }),
      transport: createMailTransport(portal.config.mail),
      compose: createOutboxMails(portal.documentMails, noticeMails()).compose,
      giveUpAfterMs: 3600_000,
      mailDomain: 'univ.example',
      deliverOnIssue: false,
    });
  const queue = (sendKey: string, recipient: string, locale: 'fr' | 'en' = 'fr') =>
    portal.db.transaction((trx) => queueNotice(trx, { sendKey, recipient, kind: 'test.reminder', params: { what: 'A-1' }, locale }, portal.clock.now(), 'univ.example'));

  it('queues a notice once per send key, however often it is queued, and sends it once, in its language, with no attachment', async () => {
    expect(await queue('test:once', 'once@example.edu', 'en')).to.equal(true);
    expect(await queue('test:once', 'once@example.edu', 'en')).to.equal(false);
    const counts = await Promise.all([delivery().deliverDue(), delivery().deliverDue()]);
    expect(counts.reduce((sum, count) => sum + count.sent, 0)).to.equal(1);

    const [received, ...others] = smtp.messagesTo('once@example.edu');
    expect(others).to.have.length(0);
    expect(received!.parsed.subject).to.equal('Reminder A-1');
    expect(received!.parsed.text).to.include('Credit and personal data').and.include(`${portal.config.server.publicUrl}/topup`);
    expect(received!.parsed.attachments).to.have.length(0);
    const stored = (await portal.db.knex('mail_outbox').where('send_key', 'test:once').first()) as { id: number };
    expect(await findMail(portal.db.knex, Number(stored.id))).to.deep.include({ status: 'sent', documentId: null, documentNumber: null, notice: { kind: 'test.reminder', params: { what: 'A-1' }, locale: 'en' } });
  });

  it('completes a Message-ID queued without a domain with the portal\'s, the same on every attempt', async () => {
    await portal.db.transaction((trx) =>
      enqueueNoticeMail(trx, { notice: { kind: 'test.reminder', params: { what: 'B-2' }, locale: 'fr' }, sendKey: 'test:no-domain', recipient: 'nodomain@example.edu', messageId: '<test.no-domain.1>' }, portal.clock.now()),
    );
    await delivery().deliverDue();
    const [received] = smtp.messagesTo('nodomain@example.edu');
    expect(received!.parsed.messageId).to.equal('<test.no-domain.1@univ.example>');
  });

  it('keeps a notice of an unknown kind pending with the reason, without holding back the other mails', async () => {
    await portal.db.transaction((trx) => queueNotice(trx, { sendKey: 'test:unknown', recipient: 'unknown@example.edu', kind: 'test.gone', params: {}, locale: 'fr' }, portal.clock.now(), 'univ.example'));
    await queue('test:after-unknown', 'after@example.edu');
    await delivery().deliverDue();
    expect(smtp.messagesTo('after@example.edu')).to.have.length(1);
    const stuck = (await portal.db.knex('mail_outbox').where('send_key', 'test:unknown').first()) as { status: string; last_error: string };
    expect(stuck.status).to.equal('pending');
    expect(stuck.last_error).to.include('no writer for notices of kind test.gone');
  });

  it('lists a notice among the outbox for admins, named as a notice, and shows it without an attachment', async () => {
    await queue('test:listed', 'listed@example.edu');
    const admin = supertest.agent(portal.app);
    await portal.addUser('mailadmin', 'a good long password', { role: 'admin' });
    await logIn(admin, 'mailadmin', 'a good long password');
    const list = await admin.get('/admin/mails').set('Accept-Language', 'fr');
    expect(list.status).to.equal(200);
    const id = ((await portal.db.knex('mail_outbox').where('send_key', 'test:listed').first()) as { id: number }).id;
    expect(list.text).to.match(new RegExp(`<a href="/admin/mails/${id}">Avis</a>`));
    const page = await admin.get(`/admin/mails/${id}`).set('Accept-Language', 'fr');
    expect(page.status).to.equal(200);
    expect(page.text).to.include('Avis à listed@example.edu');
    // The portal's own writers do not know the test's kind: the page says the mail cannot be written.
    expect(page.text).to.not.include('/documents/');
  });

  // SQLite cannot drop a CHECK in a migration's down, so the constraint is PostgreSQL's (the migration says why).
  if (testDialect === 'postgres') it('refuses, in the database, a mail that is neither a document nor a notice', async () => {
    const row = { send_key: 'test:bad', recipient: 'x@example.edu', status: 'pending', attempts: 0, next_attempt_at: new Date(), message_id: '<x@y>', created_at: new Date(), tries_since: new Date() };
    let neither: unknown = null;
    await portal.db.knex('mail_outbox').insert(row).catch((error: unknown) => (neither = error));
    expect(String(neither)).to.include('mail_outbox_document_or_notice');
  });
});
