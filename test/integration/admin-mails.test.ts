import { expect } from 'chai';
import supertest from 'supertest';
import { findDocument, issueDocument, listOrderDocuments } from '../../src/db/documents/document-repository.js';
import { outboxKeys } from '../../src/domain/mail/outbox-keys.js';
import { claimMail, enqueueMail, findMail, finishAttempt, type OutboxMail } from '../../src/db/mail/mail-outbox-repository.js';
import type { AttemptOutcome } from '../../src/domain/mail/retry-schedule.js';
import { parseOrderNumber } from '../../src/domain/checkout/orders.js';
import { testDialect } from '../helpers/database.js';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';
import { pathOf, pay, placeOrder, publishOffers, restorePayments } from '../helpers/topup.js';
import { MAILS_PAGE_SIZE } from '../../src/web/routes/admin/mails.js';

type Agent = ReturnType<typeof supertest.agent>;

const LIST = '/admin/mails';
const PASSWORD = 'a good long password';
const DEMO_NOTE = 'Mode démonstration : les courriels sont conservés ici au lieu d&#39;être envoyés.';
const SMTP_ERROR = 'connect ECONNREFUSED 127.0.0.1:2525 (the mail server did not answer; it was tried for three days in a row before giving up)';

/** The page's text as a reader sees it: EJS escapes quotes, angle brackets and ampersands. */
const readable = (html: string) =>
  html.replace(/&#39;/g, "'").replace(/&#34;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The list's rows, as [mail id, document number], top to bottom. */
const listedMails = (html: string) => [...html.matchAll(/<a href="\/admin\/mails\/(\d+)">([A-Z]{2}-\d{6,})<\/a>/g)].map(([, id, number]) => [Number(id), number]);

/** The list's row of one mail. */
function rowOf(html: string, mail: OutboxMail): string {
  const at = html.indexOf(`<a href="/admin/mails/${mail.id}">`);
  expect(at, `no row for mail ${mail.id}`).to.be.above(-1);
  return html.slice(html.lastIndexOf('<tr>', at), html.indexOf('</tr>', at));
}

describe(`administration: mail (${testDialect})`, function () {
  let portal: TestPortal;
  let termsId: number;
  let buyer: Agent;
  let admin: Agent;

  const knex = () => portal.db.knex;
  const loggedInAs = async (username: string, password: string) => {
    const agent = supertest.agent(portal.app);
    expect((await logIn(agent, username, password)).status).to.equal(303);
    return agent;
  };

  /** Pays a pack through the simulator as the buyer; the credit issues the receipt and queues its mail, which is returned. */
  async function paidOrderMail(): Promise<OutboxMail> {
    const number = await placeOrder(buyer, { offer: 'pack-10', terms: String(termsId) });
    const paypalOrderId = await pay(buyer, portal, number);
    expect((await buyer.get(pathOf(portal.simulator.approve(paypalOrderId)))).status).to.equal(303);
    await restorePayments(portal);
    const [receipt] = await listOrderDocuments(knex(), parseOrderNumber(number)!);
    const mail = receipt ? await findMail(knex(), { documentId: receipt.id }) : undefined;
    expect(mail, `no mail queued for ${number}`).not.to.equal(undefined);
    return mail!;
  }

  /** One delivery attempt, ending as the outbox records it. */
  async function attempt(mail: OutboxMail, outcome: AttemptOutcome): Promise<OutboxMail> {
    const claimed = await claimMail(knex(), mail.id, portal.clock.now(), 60_000);
    expect(claimed, `mail ${mail.id} is not due`).not.to.equal(undefined);
    expect(await finishAttempt(knex(), claimed!, outcome, portal.clock.now())).to.equal(true);
    return (await findMail(knex(), mail.id))!;
  }
  const failed = async () => attempt(await paidOrderMail(), { status: 'failed', error: SMTP_ERROR });
  const sent = async () => attempt(await paidOrderMail(), { status: 'sent' });

  const tokenOf = async (mail: OutboxMail) => csrfTokenFrom((await admin.get(`${LIST}/${mail.id}`).expect(200)).text);
  const retry = async (mail: OutboxMail, fields: Record<string, string>) => admin.post(`${LIST}/${mail.id}/retry`).type('form').send(fields);
  /** Everything a refused retry must leave as it was. */
  const state = async (mail: OutboxMail) => ({ mail: await findMail(knex(), mail.id), audit: await knex()('audit_log').orderBy('id').select('id') });

  before(async () => {
    portal = await createTestPortal();
    termsId = await publishOffers(portal);
    await portal.addUser('camille', PASSWORD, { displayName: 'Camille Martin', email: 'camille.martin@example.edu' });
    await portal.addUser('informatique', PASSWORD, { role: 'it' });
    await portal.addUser('gestion', PASSWORD, { role: 'admin' });
    buyer = await loggedInAs('camille', PASSWORD);
    admin = await loggedInAs('gestion', PASSWORD);
  });
  after(() => portal.cleanup());

  it('lets only admins in: 403 for users and IT, the login page for visitors, nothing retried', async () => {
    const mail = await failed();
    const before = await state(mail);
    for (const username of ['camille', 'informatique']) {
      const agent = await loggedInAs(username, PASSWORD);
      const token = csrfTokenFrom((await agent.get('/account').expect(200)).text);
      expect((await agent.get(LIST)).status, `${username} list`).to.equal(403);
      expect((await agent.get(`${LIST}/${mail.id}`)).status, `${username} mail`).to.equal(403);
      expect((await agent.post(`${LIST}/${mail.id}/retry`).type('form').send({ _csrf: token })).status, `${username} retry`).to.equal(403);
    }
    for (const path of [LIST, `${LIST}/${mail.id}`]) {
      const visitor = await supertest(portal.app).get(path);
      expect(visitor.status, path).to.equal(303);
      expect(visitor.headers.location).to.equal('/login');
    }
    expect(await state(mail)).to.deep.equal(before);
  });

  it('lists a paid order\'s mail, newest first, with its status in French and in English', async () => {
    const older = await paidOrderMail();
    const mail = await paidOrderMail();
    const page = await admin.get(LIST).expect(200);
    expect(page.text).to.match(/<a href="\/admin\/mails" aria-current="page">Courriels<\/a>/);
    expect(page.text).to.include(DEMO_NOTE);
    const listed = listedMails(page.text);
    expect(listed[0]).to.deep.equal([mail.id, mail.documentNumber]);
    expect(listed.findIndex(([id]) => id === older.id)).to.equal(1);
    const row = rowOf(page.text, mail);
    expect(mail.documentNumber).to.match(/^RC-\d{6}$/);
    expect(row).to.include('camille.martin@example.edu').and.include('En attente d&#39;envoi').and.include('<td class="number">0</td>');

    const english = await admin.get(LIST).set('Accept-Language', 'en').expect(200);
    expect(english.text).to.include('Demo mode: mails are kept here instead of being sent.').and.include('>Mail</a>');
    expect(rowOf(english.text, mail)).to.include('Waiting to be sent');

    const gaveUp = await failed();
    const failedRow = rowOf((await admin.get(LIST).expect(200)).text, gaveUp);
    expect(failedRow).to.include('Échec, abandonné').and.include('<td class="number">1</td>');
    // The list shows the start of the error; the mail's page all of it.
    expect(failedRow).to.include(SMTP_ERROR.slice(0, 79)).and.not.include(SMTP_ERROR);
    expect(readable((await admin.get(`${LIST}/${gaveUp.id}`).expect(200)).text)).to.include(SMTP_ERROR);
  });

  it('filters by status, keeps the choice in the form, and says when nothing matches', async () => {
    const gaveUp = await failed();
    const delivered = await sent();
    const onlyFailed = await admin.get(LIST).query({ status: 'failed' }).expect(200);
    expect(listedMails(onlyFailed.text).map(([id]) => id)).to.include(gaveUp.id).and.not.include(delivered.id);
    expect(onlyFailed.text).to.include('<option value="failed" selected>');
    const onlySent = await admin.get(LIST).query({ status: 'sent' }).expect(200);
    const sentIds = listedMails(onlySent.text).map(([id]) => id);
    expect(sentIds).to.include(delivered.id).and.not.include(gaveUp.id);
    expect(rowOf(onlySent.text, delivered)).to.include('Envoyé').and.include('<time datetime=');
    expect((await knex()('mail_outbox').where('status', 'sent').select('id')).map((row: { id: unknown }) => Number(row.id)).sort()).to.deep.equal([...sentIds].sort());

    const all = await admin.get(LIST).query({ status: '' }).expect(200);
    expect(listedMails(all.text).map(([id]) => id)).to.include(gaveUp.id).and.include(delivered.id);
    const none = await admin.get(LIST).query({ status: 'sending' }).set('Accept-Language', 'en').expect(200);
    expect(none.text).to.include('0 mails').and.include('No mail with this status.').and.not.include('<table');
  });

  it('answers 400 with a message to a status that is not in the list, and to a bad page number', async () => {
    for (const query of ['status=bounced', 'status=FAILED', 'status=failed&status=sent']) {
      const response = await admin.get(`${LIST}?${query}`);
      expect(response.status, query).to.equal(400);
      expect(readable(response.text), query).to.include('Le filtre n\'est pas valable : choisissez un état de la liste.').and.include('Choisissez un état de la liste.');
      expect(response.text, query).to.include('aria-invalid="true"').and.not.include('<table');
    }
    expect((await admin.get(`${LIST}?page=0`)).status).to.equal(400);
  });

  it('pages the list, keeping the filter in the links', async () => {
    const order = await paidOrderMail();
    const documentOrderId = (await knex()('documents').where('id', order.documentId).first()).order_id as number;
    // A mail of another status, which the filtered pages must leave out.
    await sent();
    // Mails of documents made up for this test (kinds and numbers as real ones), removed afterwards.
    const made: number[] = [];
    try {
      await portal.db.transaction(async (trx) => {
        for (let index = 0; index < MAILS_PAGE_SIZE; index += 1) {
          const { document } = await issueDocument(
            trx,
            {
              kind: 'receipt',
              sourceKey: `test-paging:${index}`,
              orderId: documentOrderId,
              refundId: null,
              locale: 'fr',
              buyer: { name: 'Camille Martin', username: 'camille', email: 'camille.martin@example.edu' },
              seller: portal.config.seller,
              brand: null,
            },
            portal.clock.now(),
          );
          await enqueueMail(trx, { documentId: document.id, sendKey: outboxKeys.document(document.id), recipient: 'camille.martin@example.edu', messageId: `<paging-${index}@example.edu>` }, portal.clock.now());
          made.push(document.id);
        }
      });
      const pending = (await knex()('mail_outbox').where('status', 'pending').orderBy('id', 'desc').select('id')).map((row: { id: unknown }) => Number(row.id));
      expect(pending.length).to.be.above(MAILS_PAGE_SIZE);

      const first = await admin.get(LIST).query({ status: 'pending' }).expect(200);
      expect(listedMails(first.text).map(([id]) => id)).to.deep.equal(pending.slice(0, MAILS_PAGE_SIZE));
      const next = /<a href="([^"]+)" rel="next">/.exec(first.text)?.[1];
      expect(next).to.equal('/admin/mails?status=pending&amp;page=2');
      const second = await admin.get(readable(next!)).expect(200);
      expect(listedMails(second.text).map(([id]) => id)).to.deep.equal(pending.slice(MAILS_PAGE_SIZE, 2 * MAILS_PAGE_SIZE));
      expect(second.text).to.include('<option value="pending" selected>').and.include('href="/admin/mails?status=pending&amp;page=1" rel="prev"');
      // A page past the end (mails left the status since the link was made) shows the last one.
      const last = Math.ceil(pending.length / MAILS_PAGE_SIZE);
      const beyond = await admin.get(LIST).query({ status: 'pending', page: '999' }).expect(200);
      expect(listedMails(beyond.text).map(([id]) => id)).to.deep.equal(pending.slice((last - 1) * MAILS_PAGE_SIZE));
    } finally {
      await knex()('mail_outbox').whereIn('document_id', made).delete();
      await knex()('documents').whereIn('id', made).delete();
    }
  });

  it('shows a mail\'s headers, the text as it is sent and the PDF attached, in the buyer\'s language', async () => {
    const mail = await paidOrderMail();
    const composed = await portal.documentMails.compose(mail.documentId!);
    const page = await admin.get(`${LIST}/${mail.id}`).expect(200);
    const text = readable(page.text);
    expect(page.text).to.include(`<h1>Courriel du document ${mail.documentNumber}</h1>`);
    for (const value of [portal.config.mail.from, 'camille.martin@example.edu', composed.subject, mail.messageId, 'En attente d\'envoi', 'Prochain essai']) {
      expect(text, value).to.include(value);
    }
    expect(text).to.include(`<pre lang="fr">${composed.text}</pre>`);
    expect(composed.text).to.include(mail.documentNumber);
    expect(page.text).to.include(`<a href="/documents/${mail.documentNumber}.pdf">${mail.documentNumber}.pdf</a>`);
    expect(page.text).not.to.include('/retry');
    const pdf = await admin.get(`/documents/${mail.documentNumber}.pdf`).expect(200);
    expect(pdf.headers['content-type']).to.match(/^application\/pdf/);

    // The admin reads the page in English; the mail stays in the buyer's French.
    const english = readable((await admin.get(`${LIST}/${mail.id}`).set('Accept-Language', 'en').expect(200)).text);
    expect(english).to.include(`Mail for document ${mail.documentNumber}`).and.include('Subject').and.include('Waiting to be sent').and.include(`<pre lang="fr">${composed.text}</pre>`);
  });

  it('shows a mail that demo mode kept as kept, not sent', async () => {
    const queued = await paidOrderMail();
    expect((await portal.mail.deliverDue()).kept).to.be.at.least(1);
    const mail = (await findMail(knex(), queued.id))!;
    expect(mail.status).to.equal('kept');
    const text = readable((await admin.get(`${LIST}/${mail.id}`).expect(200)).text);
    expect(text).to.include('Conservé, non envoyé').and.include('Conservé le').and.include('Mode démonstration : ce courriel n\'est pas parti, voici ce qu\'il contient.');
    expect(rowOf((await admin.get(LIST).query({ status: 'kept' }).expect(200)).text, mail)).to.include('Conservé, non envoyé');
  });

  it('sends a failed mail again on an admin\'s request: pending at once, audited, and only with the CSRF token', async () => {
    const mail = await failed();
    const page = await admin.get(`${LIST}/${mail.id}`).expect(200);
    expect(page.text).to.include(`<form method="post" action="/admin/mails/${mail.id}/retry">`).and.include('Réessayer l&#39;envoi');

    const before = await state(mail);
    expect((await retry(mail, {})).status).to.equal(403);
    expect((await retry(mail, { _csrf: 'not-the-token' })).status).to.equal(403);
    expect(await state(mail)).to.deep.equal(before);

    portal.clock.advance(60_000);
    const response = await retry(mail, { _csrf: await tokenOf(mail) });
    expect(response.status).to.equal(303);
    expect(response.headers.location).to.equal(`${LIST}/${mail.id}?notice=retried`);
    const retried = await findMail(knex(), mail.id);
    expect(retried).to.deep.include({ status: 'pending', attempts: 1, lastError: SMTP_ERROR });
    expect(retried!.nextAttemptAt.toISOString()).to.equal(portal.clock.now().toISOString());

    const audit = await knex()('audit_log').where('action', 'mail.retry').orderBy('id', 'desc').first();
    expect(audit).to.include({ actor_username: 'gestion', target: mail.documentNumber });
    expect(JSON.parse(audit.before_json as string)).to.deep.equal({ status: 'failed', attempts: 1, lastError: SMTP_ERROR });
    expect(JSON.parse(audit.after_json as string)).to.deep.equal({ status: 'pending' });

    const after = await admin.get(response.headers.location as string).expect(200);
    expect(after.text).to.include('Le courriel est de nouveau en attente d&#39;envoi.').and.not.include('/retry');
    const log = await admin.get('/admin/audit').query({ action: 'mail.retry' }).expect(200);
    expect(readable(log.text)).to.include('Nouvel essai d\'envoi d\'un courriel').and.include(mail.documentNumber);
  });

  it('refuses to send again a mail that has not failed, changing nothing', async () => {
    const delivered = await sent();
    const waiting = await paidOrderMail();
    for (const [mail, status] of [
      [delivered, 'Envoyé'],
      [waiting, 'En attente d\'envoi'],
    ] as const) {
      const token = await tokenOf(mail);
      const before = await state(mail);
      const response = await retry(mail, { _csrf: token });
      expect(response.status).to.equal(409);
      expect(readable(response.text)).to.include(`Seul un courriel en échec peut être renvoyé ; celui-ci est « ${status} ». Rien n'a changé.`);
      expect(await state(mail)).to.deep.equal(before);
    }
    // The notice a redirect asked for is not shown for a mail it is not true of.
    expect((await admin.get(`${LIST}/${delivered.id}?notice=retried`).expect(200)).text).not.to.include('de nouveau en attente');
  });

  it('still shows a mail that cannot be written, saying so, so that an admin can read why', async () => {
    const mail = await paidOrderMail();
    const other = await paidOrderMail();
    const receipt = await findDocument(knex(), { id: mail.documentId! });
    // A credit note naming a refund of another order: its mail cannot be written from the records.
    await knex()('payment_refunds').insert({ refund_id: 'REFUND-OF-ANOTHER-ORDER', order_id: (await knex()('documents').where('id', other.documentId).first()).order_id, currency: 'EUR', amount_cents: 100, net_cents: 83, vat_cents: 17, created_at: portal.clock.now().toISOString() });
    const broken = await portal.db.transaction(async (trx) => {
      const { document } = await issueDocument(
        trx,
        { kind: 'credit_note', sourceKey: 'test-broken', orderId: receipt!.orderId!, refundId: 'REFUND-OF-ANOTHER-ORDER', locale: 'fr', buyer: receipt!.buyer, seller: receipt!.seller, brand: receipt!.brand },
        portal.clock.now(),
      );
      await enqueueMail(trx, { documentId: document.id, sendKey: outboxKeys.document(document.id), recipient: receipt!.buyer.email, messageId: '<broken@example.edu>' }, portal.clock.now());
      return (await findMail(trx, { documentId: document.id }))!;
    });
    try {
      const page = await admin.get(`${LIST}/${broken.id}`).expect(200);
      expect(readable(page.text)).to.include('Ce courriel ne peut pas être rédigé pour l\'instant').and.include(receipt!.buyer.email).and.include('<broken@example.edu>');
      expect(page.text).not.to.include('<pre');
      expect(portal.logs.some((line) => line.msg === 'cannot compose mail for the admin mailbox' && line.mailId === broken.id)).to.equal(true);
    } finally {
      await knex()('mail_outbox').where('id', broken.id).delete();
      await knex()('documents').where('id', broken.documentId).delete();
      await knex()('payment_refunds').where('refund_id', 'REFUND-OF-ANOTHER-ORDER').delete();
    }
  });

  it('answers 404 to an unknown or malformed mail id', async () => {
    const token = csrfTokenFrom((await admin.get('/admin').expect(200)).text);
    for (const id of ['999999', '0', '01', 'abc', '1e3', '12345678901']) {
      expect((await admin.get(`${LIST}/${id}`)).status, `GET ${id}`).to.equal(404);
      expect((await admin.post(`${LIST}/${id}/retry`).type('form').send({ _csrf: token })).status, `retry ${id}`).to.equal(404);
    }
  });

  it('says nothing of demo mode when mails go out through SMTP', async () => {
    const smtp = await createTestPortal({ MAIL_DELIVERY: 'smtp', SMTP_HOST: '127.0.0.1', SMTP_PORT: '2525' });
    try {
      await smtp.addUser('gestion', PASSWORD, { role: 'admin' });
      const agent = supertest.agent(smtp.app);
      expect((await logIn(agent, 'gestion', PASSWORD)).status).to.equal(303);
      const page = await agent.get(LIST).expect(200);
      expect(page.text).not.to.include('Mode démonstration').and.not.include('<table');
      expect(readable(page.text)).to.include('Aucun courriel pour l\'instant : un reçu est envoyé à chaque commande payée.');
    } finally {
      await smtp.cleanup();
    }
  });
});
