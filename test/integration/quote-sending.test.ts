import { expect } from 'chai';
import supertest from 'supertest';
import { expectDocumentsConsistent, expectLedgerConsistent, testDialect } from '../helpers/database.js';
import { formFields, withChanges } from '../helpers/html-form.js';
import { readPdf } from '../helpers/pdf-text.js';
import { createTestPortal, logIn, type TestPortal } from '../helpers/portal.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { thesisQuoteFields, THESIS_QUOTE_LINES_IN_PDF } from '../helpers/quotes.js';

type Agent = ReturnType<typeof supertest.agent>;

const DAY_MS = 24 * 3600_000;
/** pdf.js reads French amounts' narrow no-break spaces as spaces; so does this, for the mail's text. */
const plain = (text: string) => text.replace(/[\u00a0\u202f]/g, ' ');

describe(`reprography desk: sending quotes (${testDialect})`, function () {
  let smtp: TestSmtpServer;
  let portal: TestPortal;
  let desk: Agent;
  let student: Agent;
  let admin: Agent;

  const knex = () => portal.db.knex;
  /** Everything a refused send must leave as it was. */
  const written = async (db = knex()) => ({
    quotes: await db('quotes').orderBy('id').select('*'),
    events: await db('quote_events').orderBy('id').select('id'),
    audit: await db('audit_log').orderBy('id').select('id'),
    documents: await db('documents').orderBy('id').select('id'),
    mails: await db('mail_outbox').orderBy('id').select('id'),
    series: await db('document_series').orderBy('series').select('*'),
  });
  const loggedInAs = async (username: string, password: string) => {
    const agent = supertest.agent(portal.app);
    expect((await logIn(agent, username, password)).status).to.equal(303);
    return agent;
  };
  /** The portal's day, for validity dates relative to the test clock (Europe/Paris, the clock at 10:00 UTC). */
  const dayIn = (days: number) => new Date(portal.clock.now().getTime() + days * DAY_MS).toISOString().slice(0, 10);

  const createQuote = async (changes: Record<string, string> = {}, agent = desk) => {
    const page = await agent.get('/desk/quotes/new').expect(200);
    const form = withChanges(formFields(page.text, '/desk/quotes/new'), { ...thesisQuoteFields(dayIn(30)), ...changes });
    const response = await agent.post('/desk/quotes/new').type('form').send(form);
    expect(response.status, response.text.slice(0, 1500)).to.equal(303);
    return /^\/desk\/quotes\/(D-\d{4}-\d{6})\?notice=created$/.exec(String(response.headers.location))![1]!;
  };
  const sendForm = async (number: string, agent = desk) => formFields((await agent.get(`/desk/quotes/${number}`).expect(200)).text, `/desk/quotes/${number}/send`);
  const resendForm = async (number: string) => formFields((await desk.get(`/desk/quotes/${number}`).expect(200)).text, `/desk/quotes/${number}/resend`);
  const send = async (number: string) => desk.post(`/desk/quotes/${number}/send`).type('form').send(await sendForm(number));
  const quoteRow = (number: string) => knex()('quotes').where('id', Number(number.slice(-6))).first();
  const documentsOf = (number: string) => knex()('documents').where('quote_id', Number(number.slice(-6))).select('*');
  const mailsOf = async (number: string) => {
    const ids = (await documentsOf(number)).map((document: { id: number }) => document.id);
    return knex()('mail_outbox').whereIn('document_id', ids).orderBy('id').select('*');
  };

  const logInEveryone = async () => {
    desk = await loggedInAs('accueil', 'desk-password');
    student = await loggedInAs('etudiant', 'student-password');
    admin = await loggedInAs('gestion', 'admin-password');
  };
  /** Time passes: sessions time out, so everyone logs in again. */
  const advance = async (ms: number) => {
    portal.clock.advance(ms);
    await logInEveryone();
  };

  before(async () => {
    smtp = await startSmtpServer();
    portal = await createTestPortal({
      MAIL_DELIVERY: 'smtp',
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      MAIL_FROM: 'Reprographie <repro@univ.example>',
      SELLER_NAME: 'Université Exemple',
      SELLER_EMAIL: 'reprographie@univ.example',
    });
    await portal.addUser('gestion', 'admin-password', { role: 'admin' });
    await portal.addUser('accueil', 'desk-password', { displayName: 'Accueil Repro' });
    await portal.addUser('etudiant', 'student-password');
    await knex()('users').where('username', 'accueil').update({ quote_desk: true });
    await logInEveryone();
  });
  afterEach(async () => {
    await portal.mail.idle();
    await expectLedgerConsistent(portal.db);
    await expectDocumentsConsistent(portal.db);
  });
  after(async () => {
    await portal.cleanup();
    await smtp.stop();
  });

  it('sends a draft: status sent, one document numbered as the quote, one mail with the PDF in the customer’s language, audited and on the timeline', async () => {
    const staffNote = 'Note interne : client difficile, marge réduite';
    const number = await createQuote({ staffNote });
    const response = await send(number);
    expect(response.status).to.equal(303);
    expect(response.headers.location).to.equal(`/desk/quotes/${number}?notice=sent`);

    const quote = await quoteRow(number);
    expect(quote.status).to.equal('sent');
    expect(quote.sent_at).not.to.equal(null);
    const documents = await documentsOf(number);
    expect(documents).to.have.length(1);
    expect(documents[0]).to.include({ kind: 'quote', number, locale: 'fr', buyer_name: 'Camille Martin', buyer_email: 'camille.martin@example.edu', seller_email: 'reprographie@univ.example' });
    const mails = await mailsOf(number);
    expect(mails.map((mail: Record<string, unknown>) => [mail.recipient, mail.status, mail.send_key])).to.deep.equal([['camille.martin@example.edu', 'pending', `document:${documents[0].id}`]]);
    const audit = await knex()('audit_log').where('action', 'quote.send').select('actor_username', 'target');
    expect(audit).to.deep.equal([{ actor_username: 'accueil', target: number }]);
    const page = await desk.get(`/desk/quotes/${number}?notice=sent`).expect(200);
    expect(page.text).to.include('Devis envoyé au client').and.include('Renvoyer').and.not.include(`/desk/quotes/${number}/send"`).and.not.include(`/desk/quotes/${number}/edit"`);

    expect(await portal.mail.deliverDue()).to.deep.include({ sent: 1 });
    const [message] = smtp.messagesTo('camille.martin@example.edu');
    expect(message!.parsed.subject).to.equal(`Votre devis ${number} — Université Exemple`);
    expect(message!.parsed.replyTo?.text).to.equal('reprographie@univ.example');
    const text = plain(message!.parsed.text!);
    for (const expected of [
      `devis ${number}`,
      'Montant total : 47,49 € TTC',
      `Numéro de devis : ${number}`,
      'Code postal de livraison : 75 005',
      // "Payer maintenant" opens the lookup with the number filled in: the postcode is still asked.
      `Payer maintenant : ${portal.config.server.publicUrl}/quotes/lookup?number=${number}\n`,
      'Pour modifier la facturation, la livraison ou les quantités, répondez à cet e-mail.',
    ]) {
      expect(text).to.include(expected);
    }
    expect(message!.parsed.attachments.map((attachment) => [attachment.filename, attachment.contentType])).to.deep.equal([[`${number}.pdf`, 'application/pdf']]);
    const contents = await readPdf(message!.parsed.attachments[0]!.content);
    const pdf = plain(contents.text);
    const payNow = `${portal.config.server.publicUrl}/quotes/lookup?number=${number}`;
    for (const expected of [
      'Devis',
      `Numéro de devis ${number}`,
      'Code postal de livraison 75 005',
      'Valable jusqu’au',
      ...THESIS_QUOTE_LINES_IN_PDF,
      '12 rue des Écoles',
      'Camille Martin',
      'reprographie@univ.example',
      'Accepter ce devis',
      'Payez en ligne, par carte bancaire ou avec PayPal',
      `Payer maintenant : ${payNow}`,
      'répondez à l’e-mail dans lequel vous avez reçu le devis',
    ]) {
      expect(pdf.replace(/\n/g, ' ')).to.include(expected.replace(/’/g, "'"));
    }
    // A real link in the PDF, to the lookup only.
    expect(new Set(contents.links)).to.deep.equal(new Set([payNow]));
    // The staff note is for staff: neither the mail (text or HTML) nor the PDF carries any of it.
    for (const customerSees of [text, String(message!.parsed.html), pdf]) expect(customerSees).not.to.include('Note interne').and.not.include('marge réduite');
    // The stored rendition is the one attached: the same bytes every time.
    const stored = await knex()('document_files').where('document_id', documents[0].id).select('locale', 'sha256');
    expect(stored.map((file: { locale: string }) => file.locale)).to.deep.equal(['fr']);
  });

  it('writes the quote in English for an English-speaking customer: form default is the portal’s language', async () => {
    const page = await desk.get('/desk/quotes/new').expect(200);
    expect(formFields(page.text, '/desk/quotes/new').locale).to.equal('fr');
    const number = await createQuote({ locale: 'en', name: 'Alex Smith', email: 'alex@example.org', postcode: 'SW1A 1AA', deliveryMethod: 'pickup', deliveryAddress: '' });
    expect((await send(number)).status).to.equal(303);
    await portal.mail.deliverDue();
    const [message] = smtp.messagesTo('alex@example.org');
    expect(message!.parsed.subject).to.equal(`Your quote ${number} — Université Exemple`);
    expect(message!.parsed.text).to.include(`Pay now: ${portal.config.server.publicUrl}/quotes/lookup?number=${number}\n`).and.include('Delivery postcode: SW1A 1AA');
    const contents = await readPdf(message!.parsed.attachments[0]!.content);
    const pdf = contents.text;
    expect(new Set(contents.links)).to.deep.equal(new Set([`${portal.config.server.publicUrl}/quotes/lookup?number=${number}`]));
    expect(pdf).to.include('Pay now:').and.include(`Quote number ${number}`).and.include('Collection at the print shop desk').and.include('Total incl. VAT €47.49').and.include('VAT 5.5% on €9.99 €0.52');
  });

  it('sends once whatever the clicks: the form sent twice, then ten at once, make one document and one mail', async () => {
    const number = await createQuote();
    const form = await sendForm(number);
    const first = await desk.post(`/desk/quotes/${number}/send`).type('form').send(form);
    const second = await desk.post(`/desk/quotes/${number}/send`).type('form').send(form);
    expect([first.headers.location, second.headers.location]).to.deep.equal([`/desk/quotes/${number}?notice=sent`, `/desk/quotes/${number}?notice=alreadySent`]);

    const other = await createQuote();
    const otherForm = await sendForm(other);
    const answers = await Promise.all(Array.from({ length: 10 }, () => desk.post(`/desk/quotes/${other}/send`).type('form').send(otherForm)));
    expect(answers.map((answer) => answer.status)).to.deep.equal(Array(10).fill(303));
    expect(answers.filter((answer) => String(answer.headers.location).endsWith('notice=sent'))).to.have.length(1);
    for (const sent of [number, other]) {
      expect(await documentsOf(sent)).to.have.length(1);
      expect(await mailsOf(sent)).to.have.length(1);
      expect(await knex()('quote_events').where({ quote_id: Number(sent.slice(-6)), type: 'sent' })).to.have.length(1);
      expect(await knex()('audit_log').where({ action: 'quote.send', target: sent })).to.have.length(1);
    }
  });

  it('sends again as a new mail of the same document, once per click, at most five times a day', async () => {
    const number = await createQuote();
    await send(number);
    const form = await resendForm(number);
    expect(form.nonce).to.match(/^[A-Za-z0-9_-]{22}$/);
    const [once, twice] = await Promise.all([desk.post(`/desk/quotes/${number}/resend`).type('form').send(form), desk.post(`/desk/quotes/${number}/resend`).type('form').send(form)]);
    expect([once.status, twice.status]).to.deep.equal([303, 303]);
    expect(once.headers.location).to.equal(`/desk/quotes/${number}?notice=resent`);
    let mails = await mailsOf(number);
    expect(mails).to.have.length(2);
    expect(new Set(mails.map((mail: { document_id: number }) => mail.document_id)).size).to.equal(1);
    expect(mails[1].send_key).to.equal(`resend:${Number(number.slice(-6))}:${form.nonce}`);
    expect(mails[1].message_id).not.to.equal(mails[0].message_id);

    for (let resend = 2; resend <= 5; resend += 1) {
      expect((await desk.post(`/desk/quotes/${number}/resend`).type('form').send(await resendForm(number))).status).to.equal(303);
    }
    const before = await written();
    const refused = await desk.post(`/desk/quotes/${number}/resend`).type('form').send(await resendForm(number));
    expect(refused.status).to.equal(429);
    expect(refused.text).to.include('déjà été renvoyé 5 fois');
    expect(await written()).to.deep.equal(before);
    expect(await knex()('audit_log').where({ action: 'quote.resend', target: number })).to.have.length(5);

    // A day later, once more; a form without its nonce is refused.
    await advance(DAY_MS + 1000);
    expect((await desk.post(`/desk/quotes/${number}/resend`).type('form').send(await resendForm(number))).status).to.equal(303);
    await desk.post(`/desk/quotes/${number}/resend`).type('form').send(withChanges(await resendForm(number), { nonce: undefined })).expect(400);

    mails = await mailsOf(number);
    expect(mails).to.have.length(7);
    await portal.mail.deliverDue();
    const received = smtp.messages.filter((message) => message.parsed.subject?.includes(number));
    expect(received).to.have.length(7);
    const attachments = new Set(received.map((message) => message.parsed.attachments[0]!.content.toString('base64')));
    expect(attachments.size).to.equal(1);
  });

  it('refuses to send a quote whose validity date has passed (400) or that was cancelled (409), writing nothing', async () => {
    const late = await createQuote({ validUntil: dayIn(0) });
    await advance(DAY_MS);
    const lateForm = await sendForm(late);
    let before = await written();
    const refused = await desk.post(`/desk/quotes/${late}/send`).type('form').send(lateForm);
    expect(refused.status).to.equal(400);
    expect(refused.text).to.include('La date de validité est passée');
    expect(await written()).to.deep.equal(before);

    const cancelled = await createQuote();
    const cancelledForm = await sendForm(cancelled);
    const page = await desk.get(`/desk/quotes/${cancelled}/cancel`).expect(200);
    await desk.post(`/desk/quotes/${cancelled}/cancel`).type('form').send(formFields(page.text, `/desk/quotes/${cancelled}/cancel`)).expect(303);
    before = await written();
    const conflict = await desk.post(`/desk/quotes/${cancelled}/send`).type('form').send(cancelledForm);
    expect(conflict.status).to.equal(409);
    expect(conflict.text).to.include('ne peut pas être envoyé');
    await desk.post(`/desk/quotes/${cancelled}/resend`).type('form').send({ ...cancelledForm, nonce: 'A'.repeat(22) }).expect(409);
    expect(await written()).to.deep.equal(before);
  });

  it('refuses a "send again" form replayed after the quote was cancelled, rather than saying it was sent again', async () => {
    const number = await createQuote();
    await send(number);
    const form = await resendForm(number);
    await desk.post(`/desk/quotes/${number}/resend`).type('form').send(form).expect(303);
    const page = await desk.get(`/desk/quotes/${number}/cancel`).expect(200);
    await desk.post(`/desk/quotes/${number}/cancel`).type('form').send(formFields(page.text, `/desk/quotes/${number}/cancel`)).expect(303);
    const before = await written();
    const replayed = await desk.post(`/desk/quotes/${number}/resend`).type('form').send(form);
    expect(replayed.status).to.equal(409);
    expect(replayed.text).to.include('ne peut pas être envoyé');
    expect(await written()).to.deep.equal(before);
  });

  it('refuses to send or send again while no seller address is set for customers to reply to (409), writing nothing', async () => {
    const unset = await createTestPortal({ SELLER_EMAIL: '' });
    try {
      await unset.addUser('accueil', 'desk-password');
      await unset.db.knex('users').where('username', 'accueil').update({ quote_desk: true });
      const agent = supertest.agent(unset.app);
      expect((await logIn(agent, 'accueil', 'desk-password')).status).to.equal(303);
      const number = await createQuote({}, agent);
      const form = formFields((await agent.get(`/desk/quotes/${number}`).expect(200)).text, `/desk/quotes/${number}/send`);
      const before = await written(unset.db.knex);
      for (const action of ['send', 'resend']) {
        const refused = await agent.post(`/desk/quotes/${number}/${action}`).type('form').send({ ...form, nonce: 'A'.repeat(22) });
        expect(refused.status, action).to.equal(409);
        expect(refused.text).to.include('adresse e-mail du vendeur (SELLER_EMAIL)');
      }
      expect(await written(unset.db.knex)).to.deep.equal(before);
    } finally {
      await unset.cleanup();
    }
  });

  it('expires sent quotes past their last day once, in the sweep or when the quote is looked at', async () => {
    const swept = await createQuote({ validUntil: dayIn(1) });
    const shown = await createQuote({ validUntil: dayIn(1) });
    const draft = await createQuote({ validUntil: dayIn(1) });
    await send(swept);
    await send(shown);
    expect(await portal.quoteExpiry.expireQuotes(portal.clock.now())).to.deep.equal({ expired: 0 });

    await advance(2 * DAY_MS);
    // Looked at before the sweep came: expired then.
    const page = await desk.get(`/desk/quotes/${shown}`).expect(200);
    expect(page.text).to.include('Devis expiré').and.not.include(`/desk/quotes/${shown}/resend"`);
    expect((await quoteRow(shown)).status).to.equal('expired');

    const sweeps = await Promise.all([portal.quoteExpiry.expireQuotes(portal.clock.now()), portal.quoteExpiry.expireQuotes(portal.clock.now())]);
    expect(sweeps.map((sweep) => sweep.expired).reduce((sum, count) => sum + count, 0)).to.equal(1);
    expect(await portal.quoteExpiry.expireQuotes(portal.clock.now())).to.deep.equal({ expired: 0 });
    expect((await quoteRow(swept)).status).to.equal('expired');
    expect((await quoteRow(draft)).status).to.equal('draft');
    for (const expired of [swept, shown]) {
      const events = await knex()('quote_events').where({ quote_id: Number(expired.slice(-6)), type: 'expired' }).select('from_status', 'to_status', 'actor_username');
      expect(events).to.deep.equal([{ from_status: 'sent', to_status: 'expired', actor_username: 'system:expiry' }]);
    }
  });

  it('lets only the desk and admins send: others and visitors get 403, and nothing is written', async () => {
    const number = await createQuote();
    const form = await sendForm(number);
    const before = await written();
    await student.post(`/desk/quotes/${number}/send`).type('form').send(form).expect(403);
    await student.post(`/desk/quotes/${number}/resend`).type('form').send(form).expect(403);
    // A visitor has no session, hence no CSRF token of theirs: refused before the desk's guard.
    await supertest(portal.app).post(`/desk/quotes/${number}/send`).type('form').send(form).expect(403);
    expect(await written()).to.deep.equal(before);
    const byAdmin = await admin.post(`/desk/quotes/${number}/send`).type('form').send(await sendForm(number, admin));
    expect(byAdmin.headers.location).to.equal(`/desk/quotes/${number}?notice=sent`);
  });

  it('shows the quote mails in the admin mailbox, as they are sent', async () => {
    const number = await createQuote();
    await send(number);
    const mailbox = await admin.get('/admin/mails').expect(200);
    expect(mailbox.text).to.include(number);
  });
});
