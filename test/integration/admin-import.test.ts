import { expect } from 'chai';
import supertest from 'supertest';
import { SystemAccount } from '../../src/domain/ledger/ledger.js';
import type { User } from '../../src/domain/people/users.js';
import { expectLedgerConsistent, testDialect } from '../helpers/database.js';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';

type Agent = ReturnType<typeof supertest.agent>;

const BOM = '\ufeff';
const readable = (html: string) =>
  html.replace(/&#39;/g, "'").replace(/&#34;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** What Excel writes with French settings: a BOM, semicolons, CRLF, decimal commas. */
const FRENCH_FILE = `${BOM}Identifiant;Nom;E-mail;Rôle;Solde initial\r\n${[
  'Alice.Martin;Alice Martin;alice@example.edu;user;12,50',
  'bruno;"Dupont; Bruno";bruno@example.edu;;',
  'chloe;Chloé Petit;chloe@example.edu;it;3',
].join('\r\n')}\r\n`;

describe(`administration: people import (${testDialect})`, function () {
  let portal: TestPortal;
  let admin: Agent;
  let gestion: User;

  const knex = () => portal.db.knex;
  const count = async (table: string) => Number((await knex()(table).count({ count: '*' }).first())?.count);
  /** Everything a refused upload or confirmation must leave as it was. */
  const state = async () => ({
    users: await count('users'),
    accounts: await count('accounts'),
    transactions: await count('ledger_transactions'),
    audit: await count('audit_log'),
    imports: await knex()('people_imports').orderBy('id').select('id', 'status'),
  });
  const upload = async (content: string | Buffer, options: { agent?: Agent; language?: string; name?: string } = {}) => {
    const agent = options.agent ?? admin;
    const form = await agent.get('/admin/people-import').expect(200);
    return agent
      .post('/admin/people-import')
      .set('Accept-Language', options.language ?? 'fr')
      .field('_csrf', csrfTokenFrom(form.text))
      .attach('file', typeof content === 'string' ? Buffer.from(content, 'utf8') : content, { filename: options.name ?? 'people.csv', contentType: 'text/csv' });
  };
  const confirm = async (path: string, language = 'fr') => {
    const summary = await admin.get(path).expect(200);
    return admin.post(path).set('Accept-Language', language).type('form').send({ _csrf: csrfTokenFrom(summary.text) });
  };
  /** The rows of the problems table: [line, message]. */
  const problemsIn = (html: string) =>
    [...readable(html).matchAll(/<tr><th scope="row" class="number">([^<]*)<\/th><td>([^<]*)<\/td><\/tr>/g)].map((match) => [match[1], match[2]]);

  before(async () => {
    portal = await createTestPortal();
    gestion = await portal.addUser('gestion', 'admin-password', { role: 'admin' });
    await portal.addUser('existing', 'student-password');
    admin = supertest.agent(portal.app);
    await logIn(admin, 'gestion', 'admin-password');
  });
  afterEach(() => expectLedgerConsistent(portal.db));
  after(() => portal.cleanup());

  it('shows the upload form, linked from the people list, saying imported people have no password', async () => {
    expect((await admin.get('/admin/people').expect(200)).text).to.include('href="/admin/people-import"');
    const page = await admin.get('/admin/people-import').expect(200);
    expect(page.text).to.include('enctype="multipart/form-data"').and.include('name="file"').and.include('Au plus 10\u202f000 personnes et 1 Mo.');
    expect(readable(page.text)).to.include("Les personnes importées n'ont pas de mot de passe");
    expect((await admin.get('/admin/people-import').set('Accept-Language', 'en').expect(200)).text).to.include('At most 10,000 people and 1 MB.');
  });

  it('checks a clean file first, importing nothing, then imports exactly it, once, in one transaction', async () => {
    const before = await state();
    const checked = await upload(FRENCH_FILE, { name: 'élèves 2026.csv' });
    expect(checked.status).to.equal(303);
    const path = checked.headers.location as string;
    expect(path).to.match(/^\/admin\/people-import\/\d+$/);
    expect({ ...(await state()), imports: [] }).to.deep.equal({ ...before, imports: [] });
    const summary = await admin.get(path).expect(200);
    expect(summary.text).to.include('3 personnes').and.include('Importer 3 personnes').and.include('15,50 unités').and.include('élèves 2026.csv');
    expect(summary.text).to.include('<th scope="row">alice.martin</th>').and.include('Dupont; Bruno').and.include('<td>Informatique</td>');

    const imported = await confirm(path);
    expect(imported.status).to.equal(303);
    expect(imported.headers.location).to.equal(`${path}?notice=imported`);
    const done = await admin.get(imported.headers.location as string).expect(200);
    expect(done.text).to.include('3 personnes importées.').and.include('par gestion').and.not.include('Importer 3 personnes');
    expect(done.text).to.include('href="/admin/people/alice.martin"');

    const people = await knex()('users').whereIn('username', ['alice.martin', 'bruno', 'chloe']).orderBy('username').select('id', 'username', 'display_name', 'email', 'role', 'password_hash', 'disabled');
    expect(people.map((person) => [person.username, person.display_name, person.role, person.password_hash])).to.deep.equal([
      ['alice.martin', 'Alice Martin', 'user', null],
      ['bruno', 'Dupont; Bruno', 'user', null],
      ['chloe', 'Chloé Petit', 'it', null],
    ]);
    const importId = Number(path.split('/').pop());
    const openings = await knex()('ledger_transactions').where('idempotency_key', 'like', `people-import:${importId}:%`).orderBy('idempotency_key').select('id', 'idempotency_key', 'kind', 'created_by', 'description');
    expect(openings.map((row) => [row.idempotency_key, row.kind, Number(row.created_by), row.description])).to.deep.equal([
      [`people-import:${importId}:alice.martin`, 'adjustment', gestion.id, `Solde initial (import n° ${importId})`],
      [`people-import:${importId}:chloe`, 'adjustment', gestion.id, `Solde initial (import n° ${importId})`],
    ]);
    const entries = await knex()('ledger_entries').join('accounts', 'accounts.id', 'ledger_entries.account_id').whereIn('transaction_id', openings.map((row) => row.id)).orderBy('ledger_entries.id').select('code', 'amount');
    const [alice, , chloe] = people;
    expect(entries.map((entry) => [entry.code, Number(entry.amount)]).sort()).to.deep.equal([
      [SystemAccount.adjustments, -1250],
      [SystemAccount.adjustments, -300],
      [`user:${alice.id}`, 1250],
      [`user:${chloe.id}`, 300],
    ].sort());
    expect((await portal.ledger.userAccount(people[1].id)).balance).to.equal(0);
    const audit = await knex()('audit_log').where('action', 'people.import').select('actor_username', 'target', 'before_json', 'after_json');
    expect(audit).to.deep.equal([{ actor_username: 'gestion', target: `import ${importId}`, before_json: null, after_json: JSON.stringify({ importId, count: 3, totalUnits: 1550, privileged: ['chloe (it)'] }) }]);
    expect((await logIn(supertest.agent(portal.app), 'bruno', 'any password at all')).status).to.equal(401);

    const afterImport = await state();
    const again = await confirm(path);
    expect(again.status).to.equal(409);
    expect(readable(again.text)).to.include('Cet import a déjà été effectué : rien de plus n\'a été importé.');
    expect(readable((await confirm(path, 'en')).text)).to.include('This import was already done: nothing more was imported.');
    expect(await state()).to.deep.equal(afterImport);

    const person = await admin.get('/admin/people/alice.martin').expect(200);
    expect(person.text).to.include('12,50 unités').and.include(`Solde initial (import n° ${importId})`);
  });

  it('reads an English file with commas and an empty balance as zero', async () => {
    const checked = await upload('username,name,e-mail,role,opening balance\ndiane,Diane,diane@example.edu,admin,\n', { language: 'en' });
    expect(checked.status).to.equal(303);
    expect((await admin.get(checked.headers.location as string).set('Accept-Language', 'en').expect(200)).text).to.include('Import 1 person');
    const transactions = await count('ledger_transactions');
    expect((await confirm(checked.headers.location as string, 'en')).status).to.equal(303);
    expect(await count('ledger_transactions')).to.equal(transactions);
    expect((await portal.users.findUser('diane'))?.role).to.equal('admin');
  });

  it('reports every bad line with its number and reason, in French and English, and keeps nothing', async () => {
    const file = [
      'username;name;e-mail;role;opening balance',
      'good;Good;good@example.edu;user;1',
      'bad name;Bad;bad@example.edu;user;1',
      'existing;Existing;existing@example.edu;user;1',
      'mail;Mail;not-an-email;user;1',
      'role;Role;role@example.edu;root;1',
      'minus;Minus;minus@example.edu;user;-5',
      'exp;Exp;exp@example.edu;user;1e3',
      'abc;Abc;abc@example.edu;user;abc',
      'GOOD;Again;again@example.edu;user;1',
      'short;Short',
    ].join('\n');
    const before = await state();
    const french = await upload(file);
    expect(french.status).to.equal(400);
    expect(readable(french.text)).to.include('9 problèmes : rien ne peut être importé');
    expect(problemsIn(french.text)).to.deep.equal([
      ['3', 'Identifiant « bad name » invalide : lettres, chiffres et . _ @ + - uniquement, 100 caractères au plus.'],
      ['4', "L'identifiant existing existe déjà."],
      ['5', 'Adresse e-mail « not-an-email » invalide.'],
      ['6', 'Rôle « root » inconnu : utilisez user, admin ou it.'],
      ['7', "Solde initial « -5 » invalide : indiquez un nombre d'unités, par exemple 12,50."],
      ['8', "Solde initial « 1e3 » invalide : indiquez un nombre d'unités, par exemple 12,50."],
      ['9', "Solde initial « abc » invalide : indiquez un nombre d'unités, par exemple 12,50."],
      ['10', "L'identifiant good figure déjà ligne 2."],
      ['11', '2 colonnes au lieu de 5.'],
    ]);
    const english = await upload(file, { language: 'en' });
    expect(english.status).to.equal(400);
    expect(problemsIn(english.text).map(([line]) => line)).to.deep.equal(['3', '4', '5', '6', '7', '8', '9', '10', '11']);
    expect(problemsIn(english.text)[1]).to.deep.equal(['4', 'The username existing already exists.']);
    expect(await state()).to.deep.equal(before);
  });

  it('reports problems of the whole file: not CSV text, missing columns, no people, too many people', async () => {
    const before = await state();
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0xff, 0xfe]);
    const picture = await upload(png, { name: 'photo.png' });
    expect(picture.status).to.equal(400);
    expect(problemsIn(picture.text)).to.deep.equal([['Tout le fichier', 'Ce n\'est pas un fichier texte CSV. Dans Excel, enregistrez-le au format « CSV UTF-8 ».']]);
    const columns = await upload('username;nom;colour\nx;y;z\n', { language: 'en' });
    expect(columns.status).to.equal(400);
    expect(problemsIn(columns.text)).to.deep.equal([
      ['1', 'Unknown column: colour.'],
      ['1', 'Missing column: E-mail.'],
      ['1', 'Missing column: Role.'],
      ['1', 'Missing column: Opening balance.'],
    ]);
    expect(problemsIn((await upload('username;name;email;role;balance\n')).text)).to.deep.equal([['Tout le fichier', "Le fichier a une ligne d'en-tête mais aucune personne."]]);
    const many = ['username,name,email,role,balance', ...Array.from({ length: 10_001 }, (_, index) => `p${index},P,p${index}@example.edu,user,1`)].join('\n');
    const tooMany = await upload(many);
    expect(tooMany.status).to.equal(400);
    expect(problemsIn(tooMany.text)[0]?.[1]).to.match(/^Le fichier contient 10\s001 personnes ; 10\s000 au plus peuvent être importées à la fois\.$/);
    expect(await state()).to.deep.equal(before);
  });

  it('answers an oversized, missing or extra file with a clear page, not an error, keeping nothing', async () => {
    const before = await state();
    const huge = await upload(`username,name,email,role,balance\n${'x'.repeat(1024 * 1024)}`);
    expect(huge.status).to.equal(413);
    expect(huge.text).to.include('Le fichier dépasse 1 Mo.').and.include('name="file"');
    const form = await admin.get('/admin/people-import').expect(200);
    const none = await admin.post('/admin/people-import').field('_csrf', csrfTokenFrom(form.text));
    expect(none.status).to.equal(400);
    expect(none.text).to.include('Choisissez un fichier CSV.');
    const two = await admin
      .post('/admin/people-import')
      .set('Accept-Language', 'en')
      .field('_csrf', csrfTokenFrom(form.text))
      .attach('file', Buffer.from(FRENCH_FILE), 'a.csv')
      .attach('file', Buffer.from(FRENCH_FILE), 'b.csv');
    expect(two.status).to.equal(400);
    expect(two.text).to.include('The upload did not go through: send one CSV file with this form.');
    const otherField = await admin.post('/admin/people-import').field('_csrf', csrfTokenFrom(form.text)).attach('picture', Buffer.from(FRENCH_FILE), 'a.csv');
    expect(otherField.status).to.equal(400);
    const forged = await admin.post('/admin/people-import').field('_csrf', 'forged').attach('file', Buffer.from(FRENCH_FILE), 'a.csv');
    expect(forged.status).to.equal(403);
    expect(await state()).to.deep.equal(before);
  });

  it('refuses uploads from someone who is not an admin', async () => {
    await portal.addUser('etudiant', 'student-password');
    const before = await state();
    const student = supertest.agent(portal.app);
    await logIn(student, 'etudiant', 'student-password');
    const token = csrfTokenFrom((await student.get('/account').expect(200)).text);
    const response = await student.post('/admin/people-import').field('_csrf', token).attach('file', Buffer.from(FRENCH_FILE), 'a.csv');
    expect(response.status).to.equal(403);
    expect(await state()).to.deep.equal(before);
  });

  it('answers 404 to the confirmation of an unknown import, and imports nothing when a username was taken since the check', async () => {
    const form = await admin.get('/admin/people-import').expect(200);
    for (const id of ['999999', 'abc', '0', '99999999999999999999']) {
      await admin.get(`/admin/people-import/${id}`).expect(404);
      await admin.post(`/admin/people-import/${id}`).type('form').send({ _csrf: csrfTokenFrom(form.text) }).expect(404);
    }
    const checked = await upload('username;name;email;role;balance\nfirst;First;first@example.edu;user;5\nlater;Later;later@example.edu;user;7\n');
    expect(checked.status).to.equal(303);
    await portal.addUser('later', 'student-password');
    const before = await state();
    const response = await confirm(checked.headers.location as string);
    expect(response.status).to.equal(409);
    expect(readable(response.text)).to.include("L'identifiant later a été créé depuis la vérification : rien n'a été importé.");
    expect(await state()).to.deep.equal(before);
    expect(await portal.users.findUser('first')).to.equal(undefined);
  });
});
