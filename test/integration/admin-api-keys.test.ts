import { createHash } from 'node:crypto';
import { expect } from 'chai';
import supertest from 'supertest';
import { findActiveApiKey, recordApiKeyUse } from '../../src/db/print-api/api-key-repository.js';
import { createApiKeyManagement } from '../../src/services/print-api/api-key-management.js';
import { API_KEY_PATTERN } from '../../src/domain/print-api/api-keys.js';
import type { User } from '../../src/domain/people/users.js';
import { formatDateTime } from '../../src/i18n/format.js';
import { testDialect } from '../helpers/database.js';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';

type Agent = ReturnType<typeof supertest.agent>;

const LIST = '/admin/api-keys';

/** The page's text as a reader sees it: EJS escapes quotes and ampersands. */
const readable = (html: string) =>
  html.replace(/&#39;/g, "'").replace(/&#34;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe(`administration: API keys (${testDialect})`, function () {
  let portal: TestPortal;
  let admin: Agent;
  let gestion: User;
  let serial = 0;

  const knex = () => portal.db.knex;
  /** A name no other test uses, so that tests run in any order on one portal. */
  const uniqueName = (base: string) => `${base} ${(serial += 1)}`;
  /** Everything a refused form must leave as it was. */
  const state = async () => ({
    keys: await knex()('api_keys').orderBy('id').select('id', 'name', 'key_prefix', 'secret_sha256', 'last_used_at', 'revoked_at', 'revoked_by'),
    audit: await knex()('audit_log').orderBy('id').select('id'),
  });
  const tokenOf = async (agent: Agent) => csrfTokenFrom((await agent.get(LIST).expect(200)).text);
  const createKey = async (name: unknown, { agent = admin, language = 'fr' } = {}) =>
    agent.post(LIST).set('Accept-Language', language).type('form').send({ _csrf: await tokenOf(agent), name });
  /** Creates a key through the form; returns its row and the secret the page showed. */
  const createdKey = async (name: string) => {
    const response = await createKey(name);
    expect(response.status, response.text.slice(0, 300)).to.equal(201);
    const secret = /id="secret" value="([^"]+)"/.exec(response.text)?.[1] ?? '';
    const row = await knex()('api_keys').where({ name }).first();
    return { response, secret, row, id: Number(row.id) };
  };
  const revoke = async (id: number | string, language = 'fr') => admin.post(`${LIST}/${id}/revoke`).set('Accept-Language', language).type('form').send({ _csrf: await tokenOf(admin) });
  /** The list's row of the key called `name`. */
  const rowOf = (html: string, name: string) => {
    const at = html.indexOf(`<td>${name}</td>`);
    expect(at, `no row for ${name}`).to.be.above(-1);
    return html.slice(html.lastIndexOf('<tr>', at), html.indexOf('</tr>', at));
  };
  const loggedInAs = async (username: string, password: string) => {
    const agent = supertest.agent(portal.app);
    expect((await logIn(agent, username, password)).status).to.equal(303);
    return agent;
  };

  before(async () => {
    portal = await createTestPortal();
    await portal.addUser('etudiant', 'student-password');
    await portal.addUser('informatique', 'it-team-password', { role: 'it' });
    gestion = await portal.addUser('gestion', 'admin-password', { role: 'admin' });
    admin = await loggedInAs('gestion', 'admin-password');
  });
  after(() => portal.cleanup());

  it('lets only admins in: 403 for users and IT, the login page for visitors, and nothing created', async () => {
    const before = await state();
    for (const [username, password] of [
      ['etudiant', 'student-password'],
      ['informatique', 'it-team-password'],
    ] as const) {
      const agent = await loggedInAs(username, password);
      const token = csrfTokenFrom((await agent.get('/account').expect(200)).text);
      expect((await agent.get(LIST)).status, `${username} GET`).to.equal(403);
      expect((await agent.post(LIST).type('form').send({ _csrf: token, name: 'Intrus' })).status, `${username} create`).to.equal(403);
      expect((await agent.post(`${LIST}/1/revoke`).type('form').send({ _csrf: token })).status, `${username} revoke`).to.equal(403);
    }
    const visitor = await supertest(portal.app).get(LIST);
    expect(visitor.status).to.equal(303);
    expect(visitor.headers.location).to.equal('/login');
    expect(await state()).to.deep.equal(before);
  });

  it('shows the page in the admin navigation, with the creation form, in French and English', async () => {
    const page = await admin.get(LIST).expect(200);
    const text = readable(page.text);
    expect(text).to.include('<h1>Clés d\'API des serveurs d\'impression</h1>');
    expect(text).to.match(/<a href="\/admin\/api-keys" aria-current="page">Clés d'API<\/a>/);
    expect(text).to.include('<label for="name">Nom du serveur d\'impression</label>').and.include('maxlength="100"');
    const english = await admin.get(LIST).set('Accept-Language', 'en').expect(200);
    expect(english.text).to.include('Print-server API keys').and.include('>API keys</a>').and.include('Create the key');
    const elsewhere = await admin.get('/admin').expect(200);
    expect(elsewhere.text).to.include('<a href="/admin/api-keys">');
  });

  it('shows a new key once, with no-store, and keeps only its SHA-256: not in the database, the logs or the list', async () => {
    const name = uniqueName('Bibliothèque <salle B> & "C"');
    const auditBefore = await knex()('audit_log').where('action', 'api_key.create').count({ count: '*' }).first();
    const { response, secret, row, id } = await createdKey(name);

    expect(secret).to.match(API_KEY_PATTERN);
    expect(response.headers['cache-control']).to.equal('no-store');
    expect(response.headers.location).to.equal(undefined);
    const text = readable(response.text);
    expect(text).to.include(`Clé créée pour « ${name} »`).and.include('Cette clé ne sera plus affichée : copiez-la maintenant.');
    expect(response.text).to.match(new RegExp(`<input id="secret" value="${secret}" readonly`));
    expect(text).to.include(`curl -H "Authorization: Bearer ${secret}" "${portal.config.server.publicUrl}/api/v1/accounts/gestion"`);
    expect(response.text).not.to.match(/<script/i);

    expect(row).to.deep.include({ name, key_prefix: secret.slice(0, 10), secret_sha256: sha256(secret), created_by: gestion.id, revoked_at: null, last_used_at: null });
    // Not the secret, and not its unknown part either (the prefix alone is shown on purpose).
    const hidden = secret.slice(10);
    for (const table of ['api_keys', 'audit_log', 'sessions']) {
      const rows = JSON.stringify(await knex()(table).select('*'));
      expect(rows, table).not.to.include(hidden);
    }
    expect(portal.rawLogs.join('\n')).not.to.include(hidden);

    const audit = await knex()('audit_log').where('action', 'api_key.create').orderBy('id', 'desc').first();
    expect(Number((await knex()('audit_log').where('action', 'api_key.create').count({ count: '*' }).first())?.count)).to.equal(Number(auditBefore?.count) + 1);
    expect(audit).to.deep.include({ actor_username: 'gestion', target: name });
    expect(JSON.parse(String(audit.after_json))).to.deep.equal({ id, name, prefix: secret.slice(0, 10) });

    const list = await admin.get(LIST).expect(200);
    expect(list.text).not.to.include(hidden);
    const line = readable(rowOf(list.text, name.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;')));
    expect(line).to.include(`<th scope="row"><code>${secret.slice(0, 10)}…</code></th>`).and.include('par gestion').and.include('<td>jamais</td>').and.include('<td>Active</td>');
    expect(line).to.include(`action="/admin/api-keys/${id}/revoke"`).and.include(`aria-label="Révoquer la clé « ${name} » (${secret.slice(0, 10)}…)"`);
    expect(line).to.include(formatDateTime(portal.clock.now(), 'fr', portal.config.i18n.timeZone));
  });

  it('gives every key a secret of its own, and takes a name of exactly 100 characters', async () => {
    const first = await createdKey(uniqueName('Copieur'));
    const second = await createdKey(uniqueName('Long').padEnd(100, 'x'));
    expect(second.row.name).to.have.length(100);
    expect(first.secret).not.to.equal(second.secret);
    expect(first.row.secret_sha256).not.to.equal(second.row.secret_sha256);
  });

  it('trims the name and refuses bad ones with 400 at the field, in the person\'s language, creating nothing', async () => {
    const name = uniqueName('Accueil');
    expect((await createKey(`  ${name}  `)).status).to.equal(201);
    expect(await knex()('api_keys').where({ name }).select('name')).to.deep.equal([{ name }]);

    const before = await state();
    // NUL and DEL never reach the form: the portal refuses them at the edge (a 400 page, nothing created).
    for (const control of ['Impri\u0000mante', 'Salle\u007fC']) expect((await createKey(control)).status, JSON.stringify(control)).to.equal(400);
    for (const bad of ['', '   ', 'x'.repeat(101), 'Imprimante\tB', 'Ligne\nsuivante', 'Salle\u0085B', 'Salle \u202eB', 'Salle\u2028B', 'Salle \u2066B']) {
      const response = await createKey(bad);
      expect(response.status, JSON.stringify(bad)).to.equal(400);
      const text = readable(response.text);
      expect(text).to.include('Aucune clé n\'a été créée : corrigez le champ signalé.');
      expect(text).to.include('<p class="field-error" id="name-error">Saisissez un nom de 1 à 100 caractères, sans caractère de contrôle');
      expect(response.text).to.include('aria-invalid="true"');
      expect(response.text).not.to.match(/rk_[A-Za-z0-9_-]{43}/);
    }
    const english = await createKey('', { language: 'en' });
    expect(english.status).to.equal(400);
    expect(english.text).to.include('Enter a name of 1 to 100 characters, without control characters');
    const repeated = await admin.post(LIST).type('form').send(`_csrf=${encodeURIComponent(await tokenOf(admin))}&name=A&name=B`);
    expect(repeated.status).to.equal(400);
    expect(await state()).to.deep.equal(before);
  });

  it('keeps the typed name in the form after a refusal, escaped and cut to the field\'s length', async () => {
    const response = await createKey(`<b>${'y'.repeat(120)}`);
    expect(response.status).to.equal(400);
    expect(response.text).to.include(`value="&lt;b&gt;${'y'.repeat(97)}"`);
  });

  it('refuses a form without its CSRF token: 403 and nothing created or revoked', async () => {
    const { id } = await createdKey(uniqueName('Sans jeton'));
    const before = await state();
    expect((await admin.post(LIST).type('form').send({ name: uniqueName('Pirate') })).status).to.equal(403);
    expect((await admin.post(LIST).type('form').send({ _csrf: 'not-the-token', name: uniqueName('Pirate') })).status).to.equal(403);
    expect((await admin.post(`${LIST}/${id}/revoke`).type('form').send({})).status).to.equal(403);
    expect(await state()).to.deep.equal(before);
  });

  it('revokes a key once, audited, refuses it to the API, and changes nothing the second time', async () => {
    const name = uniqueName('Reprographie');
    const { id, row } = await createdKey(name);
    expect(await findActiveApiKey(knex(), row.secret_sha256)).to.deep.include({ id });

    portal.clock.advance(60_000);
    const revoked = await revoke(id);
    expect(revoked.status).to.equal(303);
    expect(revoked.headers.location).to.equal(`${LIST}?notice=revoked&key=${id}`);
    const after = await knex()('api_keys').where({ id }).first();
    expect(after.revoked_at).to.not.equal(null);
    expect(Number(after.revoked_by)).to.equal(gestion.id);
    expect(await findActiveApiKey(knex(), row.secret_sha256)).to.equal(undefined);
    const audit = await knex()('audit_log').where({ action: 'api_key.revoke', target: name });
    expect(audit).to.have.length(1);
    expect(audit[0]).to.deep.include({ actor_username: 'gestion' });
    expect(JSON.parse(String(audit[0].before_json))).to.deep.equal({ id, prefix: row.key_prefix });

    const page = readable((await admin.get(revoked.headers.location!).expect(200)).text);
    expect(page).to.include(`<p class="notice" role="status">La clé « ${name} » (${row.key_prefix}…) est révoquée`);
    const revokedOn = `Révoquée le ${formatDateTime(portal.clock.now(), 'fr', portal.config.i18n.timeZone)}`;
    const line = rowOf(page, name);
    expect(line).to.include(revokedOn);
    expect(line).not.to.include('/revoke"');

    const before = await state();
    portal.clock.advance(60_000);
    const again = await revoke(id, 'en');
    expect(again.status).to.equal(303);
    expect(again.headers.location).to.equal(`${LIST}?notice=alreadyRevoked&key=${id}`);
    expect(await state()).to.deep.equal(before);
    const englishPage = readable((await admin.get(again.headers.location!).set('Accept-Language', 'en').expect(200)).text);
    expect(englishPage).to.include(`The key "${name}" (${row.key_prefix}…) was already revoked on ${formatDateTime(new Date(portal.clock.now().getTime() - 60_000), 'en', portal.config.i18n.timeZone)}: nothing changed.`);
  });

  it('answers 404 to revoking a key that does not exist, changing nothing', async () => {
    const before = await state();
    for (const id of ['999999', '0', 'abc', '1e3', '99999999999']) {
      const response = await revoke(id);
      expect(response.status, id).to.equal(404);
    }
    expect(await state()).to.deep.equal(before);
  });

  it('shows no notice for a key or a notice it does not know, nor a revocation notice for an active key', async () => {
    const { id } = await createdKey(uniqueName('Silence'));
    for (const query of [`notice=revoked&key=${id}`, `notice=alreadyRevoked&key=${id}`, `notice=revoked&key=999999`, `notice=other&key=${id}`, `notice=revoked&key=abc`, `notice=revoked`]) {
      const page = await admin.get(`${LIST}?${query}`).expect(200);
      expect(page.text, query).not.to.include('class="notice"');
    }
  });

  it('shows when a key was last used', async () => {
    const name = uniqueName('Salle informatique');
    const { id } = await createdKey(name);
    expect(rowOf((await admin.get(LIST).expect(200)).text, name)).to.include('<td>jamais</td>');
    const usedAt = new Date(portal.clock.now().getTime() + 3 * 3_600_000);
    await recordApiKeyUse(knex(), { id, name, lastUsedAt: null }, usedAt);
    const line = rowOf((await admin.get(LIST).expect(200)).text, name);
    expect(line).not.to.include('jamais');
    expect(line).to.include(`<time datetime="${usedAt.toISOString()}">${formatDateTime(usedAt, 'fr', portal.config.i18n.timeZone)}</time>`);
  });

  it('says so when a key was made outside the portal, by nobody signed in', async () => {
    const name = uniqueName('Ligne de commande');
    await createApiKeyManagement({ db: portal.db, clock: portal.clock }).create({ name, actor: null });
    expect(rowOf((await admin.get(LIST).expect(200)).text, name)).to.include('<span class="muted">hors du portail</span>');
  });

  it('names both actions in the audit log, in French and English', async () => {
    const { id } = await createdKey(uniqueName('Audit'));
    expect((await revoke(id)).status).to.equal(303);
    for (const [action, french, english] of [
      ['api_key.create', 'Clé d\'API créée', 'API key created'],
      ['api_key.revoke', 'Clé d\'API révoquée', 'API key revoked'],
    ] as const) {
      const page = readable((await admin.get(`/admin/audit?action=${action}`).expect(200)).text);
      expect(page).to.include(`<code>${action}</code><br><span class="muted">${french}</span>`);
      const englishPage = (await admin.get(`/admin/audit?action=${action}`).set('Accept-Language', 'en').expect(200)).text;
      expect(englishPage).to.include(`<span class="muted">${english}</span>`);
    }
  });
});
