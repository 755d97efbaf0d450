import { expect } from 'chai';
import supertest from 'supertest';
import { getAccountByCode } from '../../src/db/ledger/ledger-repository.js';
import { SystemAccount } from '../../src/domain/ledger/ledger.js';
import type { User } from '../../src/domain/people/users.js';
import { expectLedgerConsistent, testDialect } from '../helpers/database.js';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';
import { placeOrder, publishOffers } from '../helpers/topup.js';

type Agent = ReturnType<typeof supertest.agent>;

const PASSWORD = 'student-password';
const ADMIN_PASSWORD = 'admin-password';

/** The page's text as a reader sees it: EJS escapes quotes and ampersands. */
const readable = (html: string) =>
  html.replace(/&#39;/g, "'").replace(/&#34;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

describe(`administration: people (${testDialect})`, function () {
  let portal: TestPortal;
  let admin: Agent;
  let gestion: User;
  let camille: User;
  let key = 0;

  const knex = () => portal.db.knex;
  const balanceOf = async (user: User) => (await portal.ledger.userAccount(user.id)).balance;
  const auditRows = (action?: string) => {
    const query = knex()('audit_log').orderBy('id');
    if (action) void query.where('action', action);
    return query.select('actor_username', 'action', 'target', 'before_json', 'after_json');
  };
  /** Everything a refused form must leave as it was. */
  const state = async () => ({
    users: await knex()('users').orderBy('id').select('username', 'role', 'disabled', 'session_version', 'password_hash'),
    balances: await knex()('accounts').orderBy('id').select('id', 'balance'),
    transactions: await knex()('ledger_transactions').count({ count: '*' }).first(),
    audit: await knex()('audit_log').count({ count: '*' }).first(),
  });
  const post = async (user: User, amount: number, counterpart: string, options: { allowOverdraft?: boolean } = {}) => {
    const account = await portal.ledger.userAccount(user.id);
    const other = await getAccountByCode(knex(), counterpart);
    await portal.ledger.post({ idempotencyKey: `test:${(key += 1)}`, kind: amount > 0 ? 'top_up' : 'usage', lines: [{ accountId: account.id, amount }, { accountId: other.id, amount: -amount }], ...options });
  };
  /** The person page's CSRF token and a fresh nonce for the credit/debit form. */
  const personForm = async (username: string, language = 'fr') => {
    const page = await admin.get(`/admin/people/${username}`).set('Accept-Language', language).expect(200);
    return { _csrf: csrfTokenFrom(page.text), nonce: /name="nonce" value="([^"]+)"/.exec(page.text)?.[1] as string };
  };
  const adjust = async (username: string, fields: Record<string, string>, language = 'fr') =>
    admin.post(`/admin/people/${username}/adjustments`).set('Accept-Language', language).type('form').send({ ...(await personForm(username, language)), ...fields });
  const sendPersonForm = async (username: string, action: string, fields: Record<string, string> = {}, agent = admin, language = 'fr') => {
    const page = await agent.get(`/admin/people/${username}`).expect(200);
    return agent.post(`/admin/people/${username}/${action}`).set('Accept-Language', language).type('form').send({ _csrf: csrfTokenFrom(page.text), ...fields });
  };
  const loggedInAs = async (username: string, password: string) => {
    const agent = supertest.agent(portal.app);
    expect((await logIn(agent, username, password)).status).to.equal(303);
    await agent.get('/account').expect(200);
    return agent;
  };
  const expectLoggedOut = async (agent: Agent) => {
    const response = await agent.get('/account');
    expect(response.status).to.equal(303);
    expect(response.headers.location).to.equal('/login?notice=session-expired');
  };

  before(async () => {
    portal = await createTestPortal();
    gestion = await portal.addUser('gestion', ADMIN_PASSWORD, { role: 'admin', displayName: 'Gestion Centrale' });
    await portal.addUser('adjointe', ADMIN_PASSWORD, { role: 'admin' });
    camille = await portal.addUser('camille', PASSWORD, { displayName: 'Camille MARTIN', email: 'c.martin@Example.edu' });
    for (let index = 1; index <= 27; index += 1) {
      const number = String(index).padStart(2, '0');
      await portal.users.addUser({ username: `etu${number}`, displayName: `Étudiant ${number}`, email: `etu${number}@campus.example`, role: 'user', locale: null, password: null });
    }
    await portal.users.addUser({ username: 'pct_100', displayName: 'Cent pour 100%', email: 'pct@example.edu', role: 'user', locale: null, password: null });
    await post(camille, 5000, SystemAccount.topUps);
    await post(camille, -40, SystemAccount.usage('print'));
    admin = await loggedInAs('gestion', ADMIN_PASSWORD);
  });
  afterEach(() => expectLedgerConsistent(portal.db));
  after(() => portal.cleanup());

  describe('list and search', () => {
    it('lists everyone by username, page by page, with role, access and balance', async () => {
      const first = await admin.get('/admin/people').expect(200);
      expect(first.text).to.include('aria-current="page">Personnes</a>').and.include('31 personnes trouvées.');
      expect(first.text).to.include('href="/admin/people/adjointe"').and.include('<td>Administrateur</td>').and.include('<td>Actif</td>');
      expect(first.text).to.include('<td class="number">49,60</td>');
      expect(first.text).to.include('href="/admin/people?page=2"').and.not.include('href="/admin/people/pct_100"');
      const second = await admin.get('/admin/people?page=2').expect(200);
      expect(second.text).to.include('href="/admin/people/pct_100"').and.include('Page 2 sur 2');
      await admin.get('/admin/people?page=zero').expect(400);
    });

    it('finds people by part of their username, name or e-mail, whatever the case, and keeps the search across pages', async () => {
      const byName = await admin.get('/admin/people?q=martin').expect(200);
      expect(byName.text).to.include('1 personne trouvée.').and.include('href="/admin/people/camille"');
      const byEmail = await admin.get('/admin/people?q=EXAMPLE.EDU').expect(200);
      expect(byEmail.text).to.include('href="/admin/people/camille"').and.include('href="/admin/people/pct_100"');
      const byUsername = await admin.get('/admin/people?q=ETU').set('Accept-Language', 'en').expect(200);
      expect(byUsername.text).to.include('27 people found.').and.include('href="/admin/people?q=ETU&amp;page=2"');
      expect((await admin.get('/admin/people?q=ETU&page=2').expect(200)).text).to.include('href="/admin/people/etu27"');
      expect((await admin.get('/admin/people?q=nobody-like-this').expect(200)).text).to.include('Aucune personne ne correspond à cette recherche.');
    });

    it('takes % and _ literally, and refuses searches longer than 100 characters', async () => {
      const percent = await admin.get(`/admin/people?q=${encodeURIComponent('100%')}`).expect(200);
      expect(percent.text).to.include('1 personne trouvée.').and.include('href="/admin/people/pct_100"');
      expect((await admin.get('/admin/people?q=etu_1').expect(200)).text).to.include('Aucune personne ne correspond');
      const tooLong = await admin.get(`/admin/people?q=${'a'.repeat(101)}`).set('Accept-Language', 'en').expect(400);
      expect(tooLong.text).to.include('Type at most 100 characters.').and.include('aria-describedby="q-error"');
      await admin.get('/admin/people?q=a&q=b').expect(400);
    });
  });

  describe('a person', () => {
    it('shows the profile, the balance, the history with its operations, and the orders linking to their admin page', async () => {
      await publishOffers(portal);
      const student = await loggedInAs('camille', PASSWORD);
      const number = await placeOrder(student, { offer: 'free', amount: '12,50', terms: String((await knex()('terms_versions').max({ id: 'id' }).first())?.id) });
      const page = await admin.get('/admin/people/camille').expect(200);
      expect(page.text).to.include('<h1>Camille MARTIN</h1>').and.include('<dd>c.martin@Example.edu</dd>').and.include('<dd>Utilisateur</dd>');
      expect(page.text).to.include('data-balance="4960"').and.include('49,60 unités').and.not.include('En négatif');
      expect(page.text).to.include('Impression').and.include('Rechargement').and.include('−0,40');
      expect(page.text).to.include(`<a href="/admin/orders/${number}">${number}</a>`).and.match(/12,50\s€/).and.include('À payer');
      expect(page.text).to.include('<dd>Défini</dd>');
      expect((await admin.get('/admin/people/CAMILLE').expect(200)).text).to.include('<h1>Camille MARTIN</h1>');
      const english = await admin.get('/admin/people/camille').set('Accept-Language', 'en').expect(200);
      expect(english.text).to.include('49.60 units').and.include('Credit or debit the account').and.include('Print');
    });

    it('says when a person has no password, and marks balances below zero and flagged accounts', async () => {
      const page = await admin.get('/admin/people/etu01').expect(200);
      expect(readable(page.text)).to.include("Aucun : cette personne ne peut pas se connecter tant que vous n'avez pas défini de mot de passe");
      const etu02 = (await portal.users.findUser('etu02')) as User;
      await post(etu02, -300, SystemAccount.usage('copy'), { allowOverdraft: true });
      await knex()('accounts').where('user_id', etu02.id).update({ flagged: true });
      const negative = await admin.get('/admin/people/etu02').expect(200);
      expect(negative.text).to.include('−3,00 unités').and.include('En négatif').and.include('Signalé : un remboursement ou un litige');
      expect((await admin.get('/admin/people?q=etu02').expect(200)).text).to.include('En négatif');
    });

    it('answers 404 for an unknown person, on the page and on every form, changing nothing', async () => {
      const before = await state();
      const token = csrfTokenFrom((await admin.get('/admin/people').expect(200)).text);
      await admin.get('/admin/people/nobody').expect(404);
      for (const [action, fields] of [
        ['adjustments', { direction: 'credit', amount: '5', reason: 'Test', nonce: 'abcdefghijklmnopqrstuv' }],
        ['adjustments', { direction: 'credit', amount: 'abc', reason: '', nonce: 'abcdefghijklmnopqrstuv' }],
        ['disable', {}],
        ['enable', {}],
        ['password', { password: 'a long enough password' }],
        ['password', { password: 'short' }],
        ['role', { role: 'it' }],
        ['role', { role: 'root' }],
      ] as const) {
        const response = await admin.post(`/admin/people/nobody/${action}`).type('form').send({ _csrf: token, ...fields });
        expect(response.status, `${action} ${JSON.stringify(fields)}`).to.equal(404);
        expect(response.text).to.include('Page introuvable');
      }
      expect(await state()).to.deep.equal(before);
    });
  });

  describe('credit and debit', () => {
    it('credits with a reason: an adjustment from system:adjustments naming the admin, audited with the balances', async () => {
      const response = await adjust('camille', { direction: 'credit', amount: '12,50', reason: '  Impression perdue (imprimante en panne)  ' });
      expect(response.status).to.equal(303);
      expect(response.headers.location).to.equal('/admin/people/camille?notice=credited');
      expect(await balanceOf(camille)).to.equal(4960 + 1250);
      const transaction = await knex()('ledger_transactions').orderBy('id', 'desc').first();
      expect(transaction).to.include({ kind: 'adjustment', description: 'Impression perdue (imprimante en panne)' });
      expect(Number(transaction.created_by)).to.equal(gestion.id);
      expect(transaction.idempotency_key).to.match(new RegExp(`^admin-adjustment:${camille.id}:`));
      const entries = await knex()('ledger_entries').join('accounts', 'accounts.id', 'ledger_entries.account_id').where('transaction_id', transaction.id).orderBy('amount').select('code', 'amount');
      expect(entries.map((entry) => [entry.code, Number(entry.amount)])).to.deep.equal([
        [SystemAccount.adjustments, -1250],
        [`user:${camille.id}`, 1250],
      ]);
      expect(await auditRows('person.credit')).to.deep.equal([
        {
          actor_username: 'gestion',
          action: 'person.credit',
          target: 'camille',
          before_json: JSON.stringify({ balance: 4960 }),
          after_json: JSON.stringify({ balance: 6210, amount: 1250, reason: 'Impression perdue (imprimante en panne)', transactionId: Number(transaction.id) }),
        },
      ]);
      const page = await admin.get(response.headers.location as string).expect(200);
      expect(page.text).to.include('Le compte a été crédité.').and.include('62,10 unités').and.include('Ajustement <span class="muted">— Impression perdue (imprimante en panne)</span>');
      const own = await (await loggedInAs('camille', PASSWORD)).get('/account').expect(200);
      expect(own.text).to.include('Impression perdue (imprimante en panne)');
    });

    it('debits, down to zero but never below (no overdraft)', async () => {
      const balance = await balanceOf(camille);
      const refused = await adjust('camille', { direction: 'debit', amount: '62,11', reason: 'Erreur de saisie' });
      expect(refused.status).to.equal(400);
      expect(refused.text).to.include('Ce débit dépasse le solde (62,10 unités) : un compte ne peut pas passer en négatif.').and.include('aria-describedby="amount-hint amount-error"');
      expect(refused.text).to.include('value="62,11"').and.include('Erreur de saisie</textarea>');
      const english = await adjust('camille', { direction: 'debit', amount: '100', reason: 'Typing error' }, 'en');
      expect(english.status).to.equal(400);
      expect(english.text).to.include('This debit is larger than the balance (62.10 units): accounts cannot go below zero.');
      expect(await balanceOf(camille)).to.equal(balance);
      expect(await auditRows('person.debit')).to.deep.equal([]);
      const debit = await adjust('camille', { direction: 'debit', amount: '62.10', reason: 'Fin de scolarité' });
      expect(debit.headers.location).to.equal('/admin/people/camille?notice=debited');
      expect(await balanceOf(camille)).to.equal(0);
      const [audit] = await auditRows('person.debit');
      expect(JSON.parse(audit.before_json)).to.deep.equal({ balance: 6210 });
      expect(JSON.parse(audit.after_json)).to.include({ balance: 0, amount: 6210, reason: 'Fin de scolarité' });
      expect((await adjust('camille', { direction: 'debit', amount: '0,01', reason: 'Plus rien' })).status).to.equal(400);
      await post(camille, 4960, SystemAccount.topUps);
    });

    it('posts a double-submitted form once', async () => {
      const form = { ...(await personForm('camille')), direction: 'credit', amount: '2', reason: 'Geste commercial' };
      const balance = await balanceOf(camille);
      const transactions = (await knex()('ledger_transactions').select('id')).length;
      const [first, second] = await Promise.all([1, 2].map(() => admin.post('/admin/people/camille/adjustments').type('form').send(form)));
      const third = await admin.post('/admin/people/camille/adjustments').type('form').send(form);
      expect([first!.status, second!.status, third.status]).to.deep.equal([303, 303, 303]);
      expect([first!.headers.location, second!.headers.location].sort()).to.deep.equal(['/admin/people/camille?notice=alreadyRecorded', '/admin/people/camille?notice=credited']);
      expect(third.headers.location).to.equal('/admin/people/camille?notice=alreadyRecorded');
      expect((await admin.get(third.headers.location as string)).text).to.include('Ce formulaire avait déjà été envoyé');
      expect(await balanceOf(camille)).to.equal(balance + 200);
      expect((await knex()('ledger_transactions').select('id')).length).to.equal(transactions + 1);
      expect((await auditRows('person.credit')).filter((row) => row.after_json.includes('Geste commercial'))).to.have.length(1);
      // A new form is a new operation.
      expect((await adjust('camille', { direction: 'credit', amount: '2', reason: 'Geste commercial' })).headers.location).to.equal('/admin/people/camille?notice=credited');
      expect(await balanceOf(camille)).to.equal(balance + 400);
    });

    it('refuses bad input with a message by field, in French and English, changing nothing', async () => {
      const before = await state();
      const cases: Array<[Record<string, string>, string, string]> = [
        [{ direction: 'credit', amount: '5', reason: '' }, 'Indiquez un motif.', 'Give a reason.'],
        [{ direction: 'credit', amount: '5', reason: '    ' }, 'Indiquez un motif.', 'Give a reason.'],
        [{ direction: 'credit', amount: '5', reason: 'x'.repeat(501) }, 'Le motif est trop long (500 caractères au plus).', 'The reason is too long (at most 500 characters).'],
        [{ direction: 'credit', amount: '-5', reason: 'Test' }, "Saisissez un nombre d'unités, par exemple 12,50.", 'Enter a number of units, for example 12,50.'],
        [{ direction: 'debit', amount: '1e3', reason: 'Test' }, "Saisissez un nombre d'unités, par exemple 12,50.", 'Enter a number of units, for example 12,50.'],
        [{ direction: 'credit', amount: 'abc', reason: 'Test' }, "Saisissez un nombre d'unités, par exemple 12,50.", 'Enter a number of units, for example 12,50.'],
        [{ direction: 'credit', amount: '', reason: 'Test' }, "Saisissez un nombre d'unités, par exemple 12,50.", 'Enter a number of units, for example 12,50.'],
        [{ direction: 'credit', amount: '0', reason: 'Test' }, "Saisissez un nombre d'unités supérieur à zéro.", 'Enter a number of units above zero.'],
        [{ direction: 'refund', amount: '5', reason: 'Test' }, 'Choisissez crédit ou débit.', 'Choose credit or debit.'],
        [{ amount: '5', reason: 'Test' }, 'Choisissez crédit ou débit.', 'Choose credit or debit.'],
      ];
      for (const [fields, french, english] of cases) {
        for (const [language, message] of [['fr', french], ['en', english]] as const) {
          const response = await adjust('camille', fields, language);
          expect(response.status, JSON.stringify(fields)).to.equal(400);
          expect(readable(response.text), `${language} ${JSON.stringify(fields)}`).to.include(message).and.include(language === 'fr' ? 'Veuillez corriger les points ci-dessous.' : 'Please correct the points below.');
        }
      }
      const tampered = await admin.post('/admin/people/camille/adjustments').type('form').send({ _csrf: (await personForm('camille'))._csrf, direction: 'credit', amount: '5', reason: 'Test', nonce: 'x' });
      expect(tampered.status).to.equal(400);
      const noToken = await admin.post('/admin/people/camille/adjustments').type('form').send({ ...(await personForm('camille')), _csrf: 'forged', direction: 'credit', amount: '5', reason: 'Test' });
      expect(noToken.status).to.equal(403);
      expect(await state()).to.deep.equal(before);
    });
  });

  describe('access, password and role', () => {
    it('disables: the person is logged out at their next request and cannot log in; enabling lets them back', async () => {
      await portal.addUser('dominique', PASSWORD);
      const session = await loggedInAs('dominique', PASSWORD);
      const response = await sendPersonForm('dominique', 'disable');
      expect(response.status).to.equal(303);
      expect(response.headers.location).to.equal('/admin/people/dominique?notice=disabled');
      await expectLoggedOut(session);
      expect((await logIn(supertest.agent(portal.app), 'dominique', PASSWORD)).status).to.equal(403);
      const page = await admin.get(response.headers.location as string).expect(200);
      expect(page.text).to.include('Le compte est désactivé et ses sessions sont fermées.').and.include('<dd>Désactivé</dd>').and.include('/admin/people/dominique/enable');
      expect((await sendPersonForm('dominique', 'disable')).headers.location).to.equal('/admin/people/dominique?notice=unchanged');
      expect((await sendPersonForm('dominique', 'enable')).headers.location).to.equal('/admin/people/dominique?notice=enabled');
      await loggedInAs('dominique', PASSWORD);
      expect((await auditRows()).filter((row) => row.target === 'dominique').map((row) => [row.action, row.before_json, row.after_json])).to.deep.equal([
        ['person.disable', '{"disabled":false}', '{"disabled":true}'],
        ['person.enable', '{"disabled":true}', '{"disabled":false}'],
      ]);
    });

    it('lets an account go below zero for the print servers, and back, audited; the balance is untouched', async () => {
      await portal.addUser('personnel', PASSWORD);
      const allowNegative = async () => Boolean((await portal.db.knex('accounts').join('users', 'users.id', 'accounts.user_id').where('users.username', 'personnel').first('accounts.allow_negative')).allow_negative);
      expect((await admin.get('/admin/people/personnel').expect(200)).text).to.include('/admin/people/personnel/negative-balance/allow');
      const allowed = await sendPersonForm('personnel', 'negative-balance/allow');
      expect(allowed.headers.location).to.equal('/admin/people/personnel?notice=negativeAllowed');
      expect(await allowNegative()).to.equal(true);
      const page = await admin.get(allowed.headers.location as string).expect(200);
      expect(page.text).to.include('Ce compte peut désormais passer en négatif.').and.include('/admin/people/personnel/negative-balance/refuse');
      expect((await sendPersonForm('personnel', 'negative-balance/allow')).headers.location).to.equal('/admin/people/personnel?notice=unchanged');
      expect((await sendPersonForm('personnel', 'negative-balance/refuse')).headers.location).to.equal('/admin/people/personnel?notice=negativeRefused');
      expect(await allowNegative()).to.equal(false);
      expect((await auditRows()).filter((row) => row.target === 'personnel').map((row) => [row.action, row.before_json, row.after_json])).to.deep.equal([
        ['person.allow_negative', '{"allowNegative":false}', '{"allowNegative":true}'],
        ['person.allow_negative', '{"allowNegative":true}', '{"allowNegative":false}'],
      ]);
      const forged = await admin.post('/admin/people/personnel/negative-balance/allow').type('form').send({ _csrf: 'forged' });
      expect(forged.status).to.equal(403);
      expect(await allowNegative()).to.equal(false);
      expect((await sendPersonForm('personnel', 'negative-balance/maybe')).status).to.equal(404);
    });

    it('lets another admin disable an admin, but no admin disable themself or drop their own admin role', async () => {
      const before = await state();
      const ownAccess = await sendPersonForm('gestion', 'disable');
      expect(ownAccess.status).to.equal(400);
      expect(ownAccess.text).to.include('Vous ne pouvez pas désactiver votre propre compte.');
      for (const role of ['user', 'it']) {
        const ownRole = await sendPersonForm('gestion', 'role', { role }, admin, 'en');
        expect(ownRole.status).to.equal(400);
        expect(ownRole.text).to.include('You cannot remove your own administrator role.');
      }
      expect((await sendPersonForm('gestion', 'role', { role: 'admin' })).headers.location).to.equal('/admin/people/gestion?notice=unchanged');
      expect(await state()).to.deep.equal(before);
      await admin.get('/admin').expect(200);
      const deputy = await loggedInAs('adjointe', ADMIN_PASSWORD);
      expect((await sendPersonForm('gestion', 'disable', {}, deputy)).status).to.equal(303);
      await expectLoggedOut(admin);
      expect((await sendPersonForm('gestion', 'enable', {}, deputy)).status).to.equal(303);
      admin = await loggedInAs('gestion', ADMIN_PASSWORD);
    });

    it('sets a new password: the old sessions end, the new password works, and the audit never sees it', async () => {
      await portal.addUser('eliott', PASSWORD);
      const session = await loggedInAs('eliott', PASSWORD);
      const response = await sendPersonForm('eliott', 'password', { password: 'a brand new passphrase' });
      expect(response.headers.location).to.equal('/admin/people/eliott?notice=password');
      await expectLoggedOut(session);
      expect((await logIn(supertest.agent(portal.app), 'eliott', PASSWORD)).status).to.equal(401);
      await loggedInAs('eliott', 'a brand new passphrase');
      const setFirst = await sendPersonForm('etu03', 'password', { password: 'first password of etu03' });
      expect(setFirst.status).to.equal(303);
      await loggedInAs('etu03', 'first password of etu03');
      const rows = await auditRows('person.password');
      expect(rows.map((row) => [row.target, row.before_json, row.after_json])).to.deep.equal([
        ['eliott', '{"passwordSet":true}', '{"passwordSet":true}'],
        ['etu03', '{"passwordSet":false}', '{"passwordSet":true}'],
      ]);
      expect(JSON.stringify(await knex()('audit_log').select('*'))).not.to.match(/passphrase|first password|argon2/);
    });

    it('refuses a short password and an unknown role, changing nothing', async () => {
      const before = await state();
      for (const [language, message] of [
        ['fr', 'Le mot de passe doit comporter de 8 à 1024 caractères.'],
        ['en', 'The password must have 8 to 1024 characters.'],
      ]) {
        for (const password of ['short', '', '1234567']) {
          const response = await sendPersonForm('camille', 'password', { password }, admin, language);
          expect(response.status).to.equal(400);
          expect(response.text).to.include(message).and.include('aria-describedby="password-hint password-error"');
        }
      }
      for (const [language, message] of [
        ['fr', "Choisissez l'un des rôles de la liste."],
        ['en', 'Choose one of the roles in the list.'],
      ]) {
        for (const role of ['root', '', 'ADMIN ']) {
          const response = await sendPersonForm('camille', 'role', { role }, admin, language);
          expect(response.status).to.equal(400);
          expect(readable(response.text)).to.include(message);
        }
      }
      expect(await state()).to.deep.equal(before);
    });

    it("changes the role and ends the person's sessions; the same role changes nothing", async () => {
      await portal.addUser('fanny', PASSWORD);
      const session = await loggedInAs('fanny', PASSWORD);
      const response = await sendPersonForm('fanny', 'role', { role: 'it' });
      expect(response.headers.location).to.equal('/admin/people/fanny?notice=role');
      await expectLoggedOut(session);
      expect((await portal.users.findUser('fanny'))?.role).to.equal('it');
      const again = await loggedInAs('fanny', PASSWORD);
      expect((await sendPersonForm('fanny', 'role', { role: 'it' })).headers.location).to.equal('/admin/people/fanny?notice=unchanged');
      await again.get('/account').expect(200);
      expect((await sendPersonForm('fanny', 'role', { role: 'admin' })).status).to.equal(303);
      expect((await auditRows('person.role')).map((row) => [row.target, row.before_json, row.after_json])).to.deep.equal([
        ['fanny', '{"role":"user"}', '{"role":"it"}'],
        ['fanny', '{"role":"it"}', '{"role":"admin"}'],
      ]);
      await (await loggedInAs('fanny', PASSWORD)).get('/admin').expect(200);
    });
  });
});
