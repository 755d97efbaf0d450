import { expect } from 'chai';
import supertest from 'supertest';
import { testDialect } from '../helpers/database.js';
import { formFields, withChanges } from '../helpers/html-form.js';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';
import { listRoutes } from '../helpers/routes.js';
import { moveQuote, replaceQuoteLines, updateQuoteContents } from '../../src/db/quotes/quote-repository.js';
import { thesisQuoteFields } from '../helpers/quotes.js';

type Agent = ReturnType<typeof supertest.agent>;

const ADMIN_PASSWORD = 'admin-password';
const DESK_PASSWORD = 'desk-password';
const STUDENT_PASSWORD = 'student-password';
/** The test portal's clock stands at 2026-11-23 (Europe/Paris). */
const VALID_UNTIL = '2026-12-23';

/** A value for each route parameter, so that the guard, not the parameter, decides the answer. */
const concrete = (path: string) => path.replace(/:number/g, 'D-2026-000001');

/** The page's text as a reader sees it: EJS escapes quotes and ampersands. */
const readable = (html: string) => html.replace(/&#39;/g, "'").replace(/&#34;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

describe(`reprography desk: quotes (${testDialect})`, function () {
  let portal: TestPortal;
  let admin: Agent;
  let desk: Agent;
  let student: Agent;

  const knex = () => portal.db.knex;
  /** Everything a refused form must leave as it was. */
  const written = async () => ({
    quotes: await knex()('quotes').orderBy('id').select('*'),
    lines: await knex()('quote_lines').orderBy('id').select('*'),
    events: await knex()('quote_events').orderBy('id').select('*'),
    audit: await knex()('audit_log').orderBy('id').select('id'),
  });
  const loggedInAs = async (username: string, password: string) => {
    const agent = supertest.agent(portal.app);
    expect((await logIn(agent, username, password)).status).to.equal(303);
    return agent;
  };
  /** The new-quote form as a browser would send it, with `changes` typed over it. */
  const newQuoteForm = async (agent: Agent, changes: Record<string, string | undefined>, language = 'fr') => {
    const page = await agent.get('/desk/quotes/new').set('Accept-Language', language).expect(200);
    return withChanges(formFields(page.text, '/desk/quotes/new'), changes);
  };
  const THESIS = {
    ...thesisQuoteFields(VALID_UNTIL),
    'description-2': 'Poster A0',
    'quantity-2': '1',
    'unitPrice-2': '10',
    'vatRate-2': '20',
    staffNote: 'Papier 100 g demandé',
  };
  const createQuote = async (agent: Agent, changes: Record<string, string | undefined> = {}) => {
    const response = await agent.post('/desk/quotes/new').type('form').send(await newQuoteForm(agent, { ...THESIS, ...changes }));
    expect(response.status, response.text.slice(0, 2000)).to.equal(303);
    const number = /^\/desk\/quotes\/(D-\d{4}-\d{6})\?notice=created$/.exec(String(response.headers.location))?.[1];
    expect(number).to.be.a('string');
    return number!;
  };
  const idOf = (number: string) => Number(number.slice(-6));

  before(async () => {
    portal = await createTestPortal();
    await portal.addUser('gestion', ADMIN_PASSWORD, { role: 'admin' });
    await portal.addUser('accueil', DESK_PASSWORD, { displayName: 'Accueil Repro' });
    await portal.addUser('etudiant', STUDENT_PASSWORD);
    admin = await loggedInAs('gestion', ADMIN_PASSWORD);
    student = await loggedInAs('etudiant', STUDENT_PASSWORD);
    desk = await loggedInAs('accueil', DESK_PASSWORD);
  });
  after(() => portal.cleanup());

  describe('the desk permission', () => {
    it('is granted and removed by an admin on the person page, audited, and opens or closes the desk at the next page', async () => {
      await desk.get('/desk/quotes').expect(403);
      expect((await desk.get('/account').expect(200)).text).not.to.include('href="/desk/quotes"');
      const page = await admin.get('/admin/people/accueil').expect(200);
      expect(page.text).to.include('Accueil reprographie (devis)').and.include('name="quoteDesk"').and.not.match(/name="quoteDesk" value="on" checked/);
      const grant = await admin.post('/admin/people/accueil/quote-desk').type('form').send(withChanges(formFields(page.text, '/admin/people/accueil/quote-desk'), { quoteDesk: 'on' }));
      expect(grant.status).to.equal(303);
      expect(grant.headers.location).to.equal('/admin/people/accueil?notice=quoteDesk');
      expect((await admin.get('/admin/people/accueil').expect(200)).text).to.match(/name="quoteDesk" value="on" checked/);
      // The same session goes on, and now reaches the desk.
      expect((await desk.get('/account').expect(200)).text).to.include('<a href="/desk/quotes">Devis</a>');
      await desk.get('/desk/quotes').expect(200);

      const again = await admin.get('/admin/people/accueil').expect(200);
      const remove = await admin.post('/admin/people/accueil/quote-desk').type('form').send(withChanges(formFields(again.text, '/admin/people/accueil/quote-desk'), { quoteDesk: undefined }));
      expect(remove.status).to.equal(303);
      await desk.get('/desk/quotes').expect(403);
      const audit = await knex()('audit_log').where('action', 'person.quote_desk').orderBy('id').select('actor_username', 'target', 'before_json', 'after_json');
      expect(audit).to.deep.equal([
        { actor_username: 'gestion', target: 'accueil', before_json: '{"quoteDesk":false}', after_json: '{"quoteDesk":true}' },
        { actor_username: 'gestion', target: 'accueil', before_json: '{"quoteDesk":true}', after_json: '{"quoteDesk":false}' },
      ]);
      expect(readable((await admin.get('/admin/audit').expect(200)).text)).to.include("Accès à l'accueil reprographie changé");

      const last = await admin.get('/admin/people/accueil').expect(200);
      await admin.post('/admin/people/accueil/quote-desk').type('form').send(withChanges(formFields(last.text, '/admin/people/accueil/quote-desk'), { quoteDesk: 'on' })).expect(303);
      await desk.get('/desk/quotes').expect(200);
    });

    it('guards every desk route: visitors are sent to log in, people without the permission get 403, and nothing is written', async () => {
      const routes = listRoutes(portal.app).filter((route) => route.path.startsWith('/desk/'));
      expect(routes.map((route) => `${route.method} ${route.path}`)).to.include.members(['GET /desk/quotes', 'POST /desk/quotes/new', 'POST /desk/quotes/:number/cancel']);
      const before = await written();
      const token = csrfTokenFrom((await student.get('/account').expect(200)).text);
      for (const route of routes) {
        const method = route.method.toLowerCase() as 'get' | 'post';
        const asStudent = route.method === 'GET' ? await student.get(concrete(route.path)) : await student.post(concrete(route.path)).type('form').send({ _csrf: token, ...THESIS });
        expect(asStudent.status, `${route.method} ${route.path}`).to.equal(403);
        const visitor = await supertest(portal.app)[method](concrete(route.path));
        if (route.method === 'GET') expect([visitor.status, visitor.headers.location], route.path).to.deep.equal([303, '/login']);
        else expect(visitor.status, route.path).to.equal(403);
      }
      expect((await student.get('/account').expect(200)).text).not.to.include('href="/desk/quotes"');
      expect(await written()).to.deep.equal(before);
    });

    it('is implicit for admins', async () => {
      expect((await admin.get('/account').expect(200)).text).to.include('<a href="/desk/quotes">Devis</a>');
      await admin.get('/desk/quotes/new').expect(200);
    });
  });

  /** The desk person has the permission, whatever the tests before did with it. */
  const deskAllowed = () => portal.users.setQuoteDesk('accueil', true, { id: null, username: 'cli:test' });

  describe('drafting a quote', () => {
    before(deskAllowed);

    it('creates a draft with several VAT rates: lines stored as typed, totals computed by the server, audited and on the timeline', async () => {
      const number = await createQuote(desk);
      const quote = await knex()('quotes').where('id', idOf(number)).first();
      expect(quote).to.include({ status: 'draft', customer_name: 'Camille Martin', delivery_postcode: '75 005', delivery_method: 'post', valid_until: VALID_UNTIL, currency: 'EUR', created_by: 'accueil', staff_note: 'Papier 100 g demandé' });
      expect(Number(quote.total_cents)).to.equal(5_749);
      expect(quote.user_id).to.equal(null);
      const lines = await knex()('quote_lines').where('quote_id', idOf(number)).orderBy('position').select('position', 'description', 'quantity', 'unit_price_cents', 'vat_rate_basis_points');
      expect(lines).to.deep.equal([
        { position: 0, description: 'Thèse, impression couleur', quantity: 3, unit_price_cents: 1_250, vat_rate_basis_points: 2000 },
        { position: 1, description: 'Reliure thermocollée', quantity: 3, unit_price_cents: 333, vat_rate_basis_points: 550 },
        { position: 2, description: 'Poster A0', quantity: 1, unit_price_cents: 1_000, vat_rate_basis_points: 2000 },
      ]);
      const page = await desk.get(`/desk/quotes/${number}?notice=created`).expect(200);
      const text = readable(page.text);
      expect(text).to.include(`Devis ${number}`).and.include('Le brouillon du devis est enregistré.').and.include('Statut : Brouillon');
      expect(text).to.include('Détails de la commande').and.include('Livraison').and.include('Papier 100 g demandé');
      expect(text).to.include('data-total-cents="5749"').and.match(/57,49\s€/).and.match(/Dont TVA 20 %<br><span class="hint">sur 47,50\s€ TTC<\/span><\/th><td class="number">7,92\s€/).and.match(/Dont TVA 5,5 %<br><span class="hint">sur 9,99\s€ TTC<\/span><\/th><td class="number">0,52\s€/);
      expect(text).to.match(/Montant HT<\/th><td class="number">49,05\s€/);
      expect(text).to.include('Devis créé').and.include('accueil');
      const audit = await knex()('audit_log').where({ action: 'quote.create', target: number }).first();
      expect(audit.actor_username).to.equal('accueil');
      expect(JSON.parse(audit.after_json)).to.deep.include({ status: 'draft', totalCents: 5_749, currency: 'EUR' });
      const english = readable((await desk.get(`/desk/quotes/${number}`).set('Accept-Language', 'en').expect(200)).text);
      expect(english).to.include('Order details').and.include('Including VAT 5.5 %').and.include('Status: Draft');
    });

    it('ignores any total or amount the browser adds: the server computes every amount', async () => {
      const number = await createQuote(desk, { totalCents: '1', total: '0,01', 'lineTotal-0': '1', 'unitPriceCents-0': '1', netCents: '1', vatCents: '0', currency: 'USD', status: 'paid' });
      const quote = await knex()('quotes').where('id', idOf(number)).first();
      expect([Number(quote.total_cents), quote.currency, quote.status]).to.deep.equal([5_749, 'EUR', 'draft']);
    });

    it('refuses negative or fractional quantities, bad prices and rates with 400, a message by each field in the person’s language, and writes nothing', async () => {
      const before = await written();
      const refused = await desk
        .post('/desk/quotes/new')
        .type('form')
        .send(await newQuoteForm(desk, { ...THESIS, 'quantity-0': '-3', 'quantity-1': '2.5', 'unitPrice-2': '-1', 'vatRate-1': '60', email: 'nope' }));
      expect(refused.status).to.equal(400);
      const text = readable(refused.text);
      expect(text).to.include("Le devis n'a pas été enregistré").and.include('Saisissez un nombre entier de 1 à 100 000.').and.include('Saisissez un montant de 0 à 100 000,00');
      expect(text).to.include('id="quantity-0-error"').and.include('id="quantity-1-error"').and.include('id="unitPrice-2-error"').and.include('id="vatRate-1-error"').and.include('id="email-error"');
      expect(text).to.include('aria-describedby="quantity-0-error" aria-invalid="true"').and.include('value="-3"');
      const english = await desk.post('/desk/quotes/new').set('Accept-Language', 'en').type('form').send(await newQuoteForm(desk, { ...THESIS, 'quantity-0': '1.5' }, 'en'));
      expect(english.status).to.equal(400);
      expect(english.text).to.include('Type a whole number from 1 to 100,000.');
      const nothing = await desk.post('/desk/quotes/new').type('form').send(await newQuoteForm(desk, { name: 'Sans lignes', email: 'a@example.edu', postcode: '75005' }));
      expect(nothing.status).to.equal(400);
      expect(readable(nothing.text)).to.include('Saisissez au moins une ligne');
      const unknown = await desk.post('/desk/quotes/new').type('form').send(await newQuoteForm(desk, { ...THESIS, username: 'personne' }));
      expect(unknown.status).to.equal(400);
      expect(unknown.text).to.include("Personne n&#39;a cet identifiant sur le portail.");
      expect(await written()).to.deep.equal(before);
    });

    it('adds empty rows and computes the totals without saving, without a script', async () => {
      const before = await written();
      const page = await desk.get('/desk/quotes/new').expect(200);
      expect(page.text).to.include('id="description-7"').and.not.include('id="description-8"').and.not.match(/<script/i);
      const more = await desk.post('/desk/quotes/new').type('form').send({ ...formFields(page.text, '/desk/quotes/new'), 'description-0': 'Affiche', action: 'addLines' });
      expect(more.status).to.equal(200);
      expect(more.text).to.include('id="description-11"').and.include('value="Affiche"');
      const preview = await desk.post('/desk/quotes/new').type('form').send(await newQuoteForm(desk, { ...THESIS, action: 'preview' }));
      expect(preview.status).to.equal(200);
      expect(readable(preview.text)).to.include('Totaux (non enregistrés)').and.include('data-total-cents="5749"');
      expect(await written()).to.deep.equal(before);
    });

    it('links a quote to a person of the portal by username', async () => {
      const number = await createQuote(desk, { username: ' Etudiant ', deliveryMethod: 'pickup', deliveryAddress: '' });
      const student = await knex()('users').where('username', 'etudiant').first('id');
      expect((await knex()('quotes').where('id', idOf(number)).first()).user_id).to.equal(student.id);
      expect((await desk.get(`/desk/quotes/${number}`).expect(200)).text).to.include('<dd>etudiant</dd>');
    });

    it('offers the linked person to pay in units: typed like units, stored in hundredths, shown, typed back, audited; refused without a person or a positive amount', async () => {
      const number = await createQuote(desk, { username: 'etudiant', unitsPrice: ' 49,6 ' });
      expect(Number((await knex()('quotes').where('id', idOf(number)).first()).units_price)).to.equal(4_960);
      expect(readable((await desk.get(`/desk/quotes/${number}`).expect(200)).text)).to.include('Paiement en unités').and.include('<dd id="units-price">49,60 unités</dd>');
      expect(JSON.parse((await knex()('audit_log').where({ action: 'quote.create', target: number }).first()).after_json).unitsPrice).to.equal(4_960);
      const form = await desk.get(`/desk/quotes/${number}/edit`).expect(200);
      expect(formFields(form.text, `/desk/quotes/${number}/edit`).unitsPrice).to.equal('49,60');
      expect(formFields((await desk.get(`/desk/quotes/${number}/edit`).set('Accept-Language', 'en').expect(200)).text, `/desk/quotes/${number}/edit`).unitsPrice).to.equal('49.60');
      await desk.post(`/desk/quotes/${number}/edit`).type('form').send(withChanges(formFields(form.text, `/desk/quotes/${number}/edit`), { unitsPrice: '' })).expect(303);
      expect((await knex()('quotes').where('id', idOf(number)).first()).units_price).to.equal(null);
      expect(readable((await desk.get(`/desk/quotes/${number}`).expect(200)).text)).to.include('Non proposé : seul le paiement par PayPal est possible.');

      const before = await written();
      for (const [changes, message] of [
        [{ username: 'etudiant', unitsPrice: '0' }, "Saisissez un nombre d'unités supérieur à 0"],
        [{ username: 'etudiant', unitsPrice: '-5' }, "Saisissez un nombre d'unités supérieur à 0"],
        [{ username: 'etudiant', unitsPrice: '12,345' }, "Saisissez un nombre d'unités supérieur à 0"],
        [{ username: '', unitsPrice: '10' }, 'Indiquez le compte du portail de la personne'],
      ] as const) {
        const refused = await desk.post('/desk/quotes/new').type('form').send(await newQuoteForm(desk, { ...THESIS, ...changes }));
        expect(refused.status, changes.unitsPrice).to.equal(400);
        expect(readable(refused.text), changes.unitsPrice).to.include(message).and.include('id="unitsPrice-error"').and.include(`value="${changes.unitsPrice}"`);
      }
      const english = await desk.post('/desk/quotes/new').set('Accept-Language', 'en').type('form').send(await newQuoteForm(desk, { ...THESIS, unitsPrice: '10' }, 'en'));
      expect(english.status).to.equal(400);
      expect(english.text).to.include('Give the person&#39;s portal account: only they can pay in units.');
      expect(await written()).to.deep.equal(before);
    });
  });

  describe('editing, cancelling, listing', () => {
    before(deskAllowed);

    it('edits a draft: lines replaced in one go, totals recomputed, audited before and after, on the timeline', async () => {
      const number = await createQuote(desk);
      const form = await desk.get(`/desk/quotes/${number}/edit`).expect(200);
      const fields = formFields(form.text, `/desk/quotes/${number}/edit`);
      expect(fields).to.include({ 'description-1': 'Reliure thermocollée', 'unitPrice-1': '3,33', 'vatRate-1': '5,5', postcode: '75 005' });
      const saved = await desk
        .post(`/desk/quotes/${number}/edit`)
        .type('form')
        .send(withChanges(fields, { 'description-1': '', 'unitPrice-1': '', 'quantity-2': '2', 'description-3': 'Dos carré collé', 'unitPrice-3': '8', 'vatRate-3': '10', 'quantity-3': '1' }));
      expect(saved.status).to.equal(303);
      expect(saved.headers.location).to.equal(`/desk/quotes/${number}?notice=updated`);
      const lines = await knex()('quote_lines').where('quote_id', idOf(number)).orderBy('position').select('position', 'description', 'quantity', 'unit_price_cents', 'vat_rate_basis_points');
      expect(lines.map((line: { description: string }) => line.description)).to.deep.equal(['Thèse, impression couleur', 'Poster A0', 'Dos carré collé']);
      expect(Number((await knex()('quotes').where('id', idOf(number)).first()).total_cents)).to.equal(3_750 + 2_000 + 800);
      const audit = await knex()('audit_log').where({ action: 'quote.update', target: number }).first();
      expect(JSON.parse(audit.before_json).totalCents).to.equal(5_749);
      expect(JSON.parse(audit.after_json).totalCents).to.equal(6_550);
      const timeline = await knex()('quote_events').where('quote_id', idOf(number)).orderBy('id').select('type', 'from_status', 'to_status', 'actor_username');
      expect(timeline).to.deep.equal([
        { type: 'created', from_status: null, to_status: 'draft', actor_username: 'accueil' },
        { type: 'updated', from_status: null, to_status: null, actor_username: 'accueil' },
      ]);
    });

    it('cancels a draft after a confirmation page, with the reason on the timeline and in the audit', async () => {
      const number = await createQuote(desk);
      const confirm = await desk.get(`/desk/quotes/${number}/cancel`).expect(200);
      expect(readable(confirm.text)).to.include(`Le devis ${number} de Camille Martin sera annulé`);
      const cancelled = await desk.post(`/desk/quotes/${number}/cancel`).type('form').send(withChanges(formFields(confirm.text, `/desk/quotes/${number}/cancel`), { reason: 'Client parti ailleurs' }));
      expect(cancelled.status).to.equal(303);
      const quote = await knex()('quotes').where('id', idOf(number)).first();
      expect(quote.status).to.equal('cancelled');
      expect(quote.cancelled_at).not.to.equal(null);
      const page = readable((await desk.get(`/desk/quotes/${number}?notice=cancelled`).expect(200)).text);
      expect(page).to.include('Le devis est annulé.').and.include('Devis annulé').and.include('Brouillon → Annulé').and.include('Client parti ailleurs');
      expect(page).not.to.include(`href="/desk/quotes/${number}/edit"`);
      const audit = await knex()('audit_log').where({ action: 'quote.cancel', target: number }).first();
      expect(JSON.parse(audit.after_json)).to.deep.equal({ status: 'cancelled', reason: 'Client parti ailleurs' });
      expect(readable((await admin.get('/admin/audit').expect(200)).text)).to.include('Devis annulé').and.include('Devis créé');
    });

    it('refuses to edit or cancel a quote that is no longer a draft (sent, cancelled), with 409 and nothing written', async () => {
      const cancelledNumber = await createQuote(desk);
      const form = await desk.get(`/desk/quotes/${cancelledNumber}/edit`).expect(200);
      const fields = formFields(form.text, `/desk/quotes/${cancelledNumber}/edit`);
      const cancelPage = await desk.get(`/desk/quotes/${cancelledNumber}/cancel`).expect(200);
      await desk.post(`/desk/quotes/${cancelledNumber}/cancel`).type('form').send(formFields(cancelPage.text, `/desk/quotes/${cancelledNumber}/cancel`)).expect(303);
      // Sending is the next slice: a sent quote is made so in the database.
      const sentNumber = await createQuote(desk);
      await knex()('quotes').where('id', idOf(sentNumber)).update({ status: 'sent' });
      const sentForm = withChanges(fields, {});

      const before = await written();
      for (const number of [cancelledNumber, sentNumber]) {
        const edit = await desk.get(`/desk/quotes/${number}/edit`);
        expect(edit.status, number).to.equal(409);
        expect(readable(edit.text)).to.include('seul un brouillon peut être modifié');
        const post = await desk.post(`/desk/quotes/${number}/edit`).type('form').send({ ...sentForm, 'quantity-0': '99' });
        expect(post.status, number).to.equal(409);
      }
      expect(await written()).to.deep.equal(before);
      await desk.get(`/desk/quotes/${cancelledNumber}/cancel`).expect(409);
      const confirm = await desk.get(`/desk/quotes/${sentNumber}/cancel`).expect(200);
      await desk.post(`/desk/quotes/${sentNumber}/cancel`).type('form').send(formFields(confirm.text, `/desk/quotes/${sentNumber}/cancel`)).expect(303);
      const twice = await desk.post(`/desk/quotes/${sentNumber}/cancel`).type('form').send(formFields(confirm.text, `/desk/quotes/${sentNumber}/cancel`));
      expect(twice.status).to.equal(409);
      expect((await knex()('quote_events').where({ quote_id: idOf(sentNumber), type: 'cancelled' }).select('from_status')).map((event: { from_status: string }) => event.from_status)).to.deep.equal(['sent']);
    });

    it('lists quotes newest first, filtered by status and by number, name or e-mail, page by page; unknown numbers are 404', async () => {
      const other = await createQuote(desk, { name: 'Département de Physique', email: 'physique@example.edu' });
      const all = await desk.get('/desk/quotes').expect(200);
      const numbers = [...all.text.matchAll(/<th scope="row"><a href="\/desk\/quotes\/(D-\d{4}-\d{6})">/g)].map((match) => match[1]);
      expect(numbers[0]).to.equal(other);
      expect(numbers).to.have.length(await knex()('quotes').count({ count: '*' }).first().then((row) => Number(row?.count)));
      const byName = await desk.get('/desk/quotes?q=physique').expect(200);
      expect(byName.text).to.include(`href="/desk/quotes/${other}"`).and.include('1 devis');
      const byNumber = await desk.get(`/desk/quotes?q=${encodeURIComponent(` ${other.toLowerCase()} `)}`).expect(200);
      expect(byNumber.text).to.include(`href="/desk/quotes/${other}"`).and.include('1 devis');
      const cancelled = await desk.get('/desk/quotes?status=cancelled').expect(200);
      expect(cancelled.text).to.include('<td>Annulé</td>');
      expect(cancelled.text).not.to.include(`href="/desk/quotes/${other}"`);
      const badStatus = await desk.get('/desk/quotes?status=lost').expect(400);
      expect(badStatus.text).to.include('Choisissez un statut de la liste.');
      await desk.get('/desk/quotes?page=0').expect(400);
      for (let index = 0; index < 25; index += 1) await createQuote(desk, { name: `Client ${index}` });
      const first = await desk.get('/desk/quotes').expect(200);
      expect(first.text).to.include('href="/desk/quotes?page=2"');
      await desk.get('/desk/quotes/D-2026-999999').expect(404);
      await desk.get(`/desk/quotes/${other.replace('D-2026', 'D-2025')}`).expect(404);
    });
  });

  describe('second review: concurrent edits, duplicated fields, numbers and search, cancel reasons', () => {
    before(deskAllowed);

    it('refuses a save made from an older version of the draft (two staff editing it) with 409, the form shown again and nothing written', async () => {
      const number = await createQuote(desk);
      const deskForm = formFields((await desk.get(`/desk/quotes/${number}/edit`).expect(200)).text, `/desk/quotes/${number}/edit`);
      const adminForm = formFields((await admin.get(`/desk/quotes/${number}/edit`).expect(200)).text, `/desk/quotes/${number}/edit`);
      expect(deskForm.version).to.equal('1');
      await desk.post(`/desk/quotes/${number}/edit`).type('form').send(withChanges(deskForm, { 'quantity-0': '5' })).expect(303);

      const before = await written();
      const stale = await admin.post(`/desk/quotes/${number}/edit`).type('form').send(withChanges(adminForm, { 'description-2': 'Poster A1' }));
      expect(stale.status).to.equal(409);
      expect(readable(stale.text)).to.include("Quelqu'un a enregistré ce devis pendant que vous le modifiiez : vos changements n'ont pas été enregistrés.");
      expect(stale.text).to.include('value="Poster A1"').and.include('name="version" value="1"');
      // Sent again as it is, it is refused again: it would still undo the first save.
      const again = await admin.post(`/desk/quotes/${number}/edit`).set('Accept-Language', 'en').type('form').send(formFields(stale.text, `/desk/quotes/${number}/edit`));
      expect(again.status).to.equal(409);
      expect(again.text).to.include('Someone saved this quote while you were editing it');
      const forged = await admin.post(`/desk/quotes/${number}/edit`).type('form').send(withChanges(adminForm, { version: undefined }));
      expect(forged.status).to.equal(409);
      expect(await written()).to.deep.equal(before);
      expect((await knex()('quote_lines').where({ quote_id: idOf(number), position: 0 }).first()).quantity).to.equal(5);

      const fresh = formFields((await admin.get(`/desk/quotes/${number}/edit`).expect(200)).text, `/desk/quotes/${number}/edit`);
      expect(fresh.version).to.equal('2');
      await admin.post(`/desk/quotes/${number}/edit`).type('form').send(withChanges(fresh, { 'description-2': 'Poster A1' })).expect(303);
      const lines = await knex()('quote_lines').where('quote_id', idOf(number)).orderBy('position').select('description', 'quantity');
      expect(lines.map((line: { description: string; quantity: number }) => `${line.quantity} ${line.description}`)).to.deep.equal(['5 Thèse, impression couleur', '3 Reliure thermocollée', '1 Poster A1']);
    });

    it('answers a field posted twice with a message of the form, never a raw key, in French and English', async () => {
      const before = await written();
      const fields = await newQuoteForm(desk, THESIS);
      for (const field of ['deliveryAddress', 'staffNote', 'username', 'unitsPrice', 'name', 'description-0']) {
        const body = new URLSearchParams(fields as Record<string, string>);
        body.append(field, 'encore');
        for (const [language, message] of [['fr', 'Ce champ a été envoyé plusieurs fois'], ['en', 'This field was sent more than once']]) {
          const refused = await desk.post('/desk/quotes/new').set('Accept-Language', language!).type('form').send(body.toString());
          expect(refused.status, field).to.equal(400);
          expect(refused.text, field).to.include(message).and.include(`id="${field}-error"`).and.not.include('deskQuotes.');
        }
      }
      expect(await written()).to.deep.equal(before);
    });

    it('refuses a quote totalling 0,00 with 400; a free line beside a paid one is taken', async () => {
      const before = await written();
      const refused = await desk.post('/desk/quotes/new').type('form').send(await newQuoteForm(desk, { ...THESIS, 'unitPrice-0': '0', 'unitPrice-1': '0,00', 'unitPrice-2': '0' }));
      expect(refused.status).to.equal(400);
      expect(readable(refused.text)).to.include('Le total du devis est de 0 : un devis doit comporter au moins une ligne payante.');
      expect(await written()).to.deep.equal(before);
      const number = await createQuote(desk, { 'unitPrice-0': '0', 'unitPrice-1': '0' });
      expect(Number((await knex()('quotes').where('number', number).first()).total_cents)).to.equal(1_000);
    });

    it('finds accented names whatever their case, alike on SQLite and PostgreSQL, and a number only with its own year', async () => {
      const number = await createQuote(desk, { name: 'Élise Ørsted-Çelik', email: 'Elise.Celik@Example.edu' });
      for (const typed of ['Élise', 'élise', 'ÉLISE', 'ørsted-çelik', 'ØRSTED', 'elise.celik@example', 'ＥＬＩＳＥ.celik']) {
        const found = await desk.get(`/desk/quotes?q=${encodeURIComponent(typed)}`).expect(200);
        expect(found.text, typed).to.include(`href="/desk/quotes/${number}"`).and.include('1 devis');
      }
      expect((await knex()('quotes').where('number', number).first()).search_text).to.equal(`${number.toLowerCase()}\nélise ørsted-çelik\nelise.celik@example.edu`);
      const otherYear = number.replace(/^D-\d{4}/, 'D-1999');
      for (const typed of [otherYear, otherYear.toLowerCase()]) {
        const notFound = await desk.get(`/desk/quotes?q=${encodeURIComponent(typed)}`).expect(200);
        expect(notFound.text, typed).not.to.include(`href="/desk/quotes/${number}"`);
      }
      await desk.get(`/desk/quotes/${otherYear}`).expect(404);
      await desk.get(`/desk/quotes/${number.toLowerCase()}`).expect(404);
    });

    it('refuses a cancel reason over 500 characters with 400, keeping it in the form, rather than cutting it', async () => {
      const number = await createQuote(desk);
      const confirm = formFields((await desk.get(`/desk/quotes/${number}/cancel`).expect(200)).text, `/desk/quotes/${number}/cancel`);
      const before = await written();
      const tooLong = await desk.post(`/desk/quotes/${number}/cancel`).type('form').send(withChanges(confirm, { reason: 'x'.repeat(501) }));
      expect(tooLong.status).to.equal(400);
      expect(readable(tooLong.text)).to.include('Le motif dépasse 500 caractères').and.include('x'.repeat(501));
      expect(await written()).to.deep.equal(before);
      await desk.post(`/desk/quotes/${number}/cancel`).type('form').send(withChanges(confirm, { reason: ` ${'y'.repeat(500)} ` })).expect(303);
      expect((await knex()('quote_events').where({ quote_id: idOf(number), type: 'cancelled' }).first()).detail).to.equal('y'.repeat(500));
    });

    it('never writes a quote that is not in the status its caller locked: the UPDATEs name the status (and version) they expect', async () => {
      const number = await createQuote(desk);
      await knex()('quotes').where('number', number).update({ status: 'cancelled' });
      const before = await written();
      const quote = { id: idOf(number), number, version: 1 };
      const now = portal.clock.now();
      await expectRefused((trx) => moveQuote(trx, quote.id, 'draft', 'sent', now));
      await expectRefused((trx) => replaceQuoteLines(trx, quote.id, [{ description: 'Autre', quantity: 1, unitPriceCents: 100, vatRateBasisPoints: 2000 }]));
      const contents = { customer: { name: 'X', email: 'x@example.edu', postcode: '75005', deliveryMethod: 'pickup' as const, deliveryAddress: '', validUntil: VALID_UNTIL, username: null, locale: 'fr' as const }, staffNote: '', userId: null, totalCents: 100, unitsPrice: null };
      await expectRefused((trx) => updateQuoteContents(trx, quote, contents, now));
      await knex()('quotes').where('number', number).update({ status: 'draft', version: 2 });
      await expectRefused((trx) => updateQuoteContents(trx, quote, contents, now));
      await knex()('quotes').where('number', number).update({ status: 'cancelled', version: 1 });
      expect(await written()).to.deep.equal(before);
    });
  });

  /** `change` in a transaction is refused, and rolled back. */
  const expectRefused = async (change: (trx: Parameters<Parameters<ReturnType<typeof knex>['transaction']>[0]>[0]) => Promise<unknown>) => {
    let refusal: unknown = null;
    await knex()
      .transaction(change)
      .catch((error: unknown) => (refusal = error));
    expect(String(refusal)).to.include('no longer as locked');
  };
});

describe(`reprography desk: quote numbers in the portal's time zone (${testDialect})`, function () {
  let portal: TestPortal;
  after(() => portal.cleanup());

  it('numbers a quote with the year of the day in Paris when it is made, stores the number and finds the quote by it', async () => {
    portal = await createTestPortal();
    await portal.addUser('gestion', ADMIN_PASSWORD, { role: 'admin' });
    const create = async () => {
      const agent = supertest.agent(portal.app);
      expect((await logIn(agent, 'gestion', ADMIN_PASSWORD)).status).to.equal(303);
      const page = await agent.get('/desk/quotes/new').expect(200);
      const form = withChanges(formFields(page.text, '/desk/quotes/new'), { name: 'Nouvel An', email: 'an@example.edu', postcode: '75005', validUntil: '2027-01-20', 'description-0': 'Cartes de vœux', 'unitPrice-0': '30' });
      const response = await agent.post('/desk/quotes/new').type('form').send(form);
      expect(response.status, response.text.slice(0, 1500)).to.equal(303);
      return { agent, number: /^\/desk\/quotes\/(D-\d{4}-\d{6})\?/.exec(String(response.headers.location))![1]! };
    };
    // 2026-12-31 23:30 in Paris (22:30 UTC), then 2027-01-01 00:30 in Paris (23:30 UTC, still 2026 in UTC).
    portal.clock.advance(Date.parse('2026-12-31T22:30:00Z') - portal.clock.now().getTime());
    const lastOfYear = await create();
    portal.clock.advance(60 * 60 * 1000);
    const newYear = await create();
    expect([lastOfYear.number, newYear.number]).to.deep.equal(['D-2026-000001', 'D-2027-000002']);
    const rows = await portal.db.knex('quotes').orderBy('id').select('number');
    expect(rows.map((row: { number: string }) => row.number)).to.deep.equal(['D-2026-000001', 'D-2027-000002']);
    const page = await newYear.agent.get('/desk/quotes/D-2027-000002').expect(200);
    expect(page.text).to.include('Devis D-2027-000002');
    await newYear.agent.get('/desk/quotes/D-2026-000002').expect(404);
    const found = await newYear.agent.get('/desk/quotes?q=D-2027-000002').expect(200);
    expect(found.text).to.include('href="/desk/quotes/D-2027-000002"').and.include('1 devis');
    await newYear.agent.get('/desk/quotes?q=D-2026-000002').expect(200).then((response) => expect(response.text).not.to.include('href="/desk/quotes/D-2027-000002"'));
  });
});
