import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import supertest from 'supertest';
import { recordIdentitySignIn } from '../../src/db/identity/identity-repository.js';
import { refused, type ProviderHealth } from '../../src/domain/identity/identity.js';
import { providerConfigSchema } from '../../src/domain/identity/provider-config.js';
import type { IdentityProvider } from '../../src/identity/provider.js';
import { identityRegistry, labelIn, type ConfiguredProvider } from '../../src/services/identity/registry.js';
import { testDialect } from '../helpers/database.js';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';

type Agent = ReturnType<typeof supertest.agent>;

const PUBLIC_URL = 'http://print.example.edu:8080';
const DAY_MS = 24 * 3600_000;

/** The page's text as a reader sees it: EJS escapes quotes and ampersands. */
const readable = (html: string) => html.replace(/&#39;/g, "'").replace(/&#34;/g, '"').replace(/&amp;/g, '&');

/**
 * The providers' side of a health check: a real HTTP server answering each provider's metadata or
 * discovery URL, with the certificates it declares; `/hang` accepts and never answers.
 */
async function startProviderServer(certificates: ProviderHealth['certificates']) {
  let hits = 0;
  const server: Server = createServer((request, response) => {
    hits += 1;
    if (request.url === '/hang') return;
    response.setHeader('Content-Type', 'application/json');
    response.end(JSON.stringify({ certificates: request.url === '/saml/metadata' ? certificates : [] }));
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get hits() {
      return hits;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * A provider whose gateway's health() fetches `healthUrl` over HTTP, as the real gateways fetch their
 * discovery document or metadata; it carries no protocol, so signing in through it is refused.
 * `fetchTimeoutMs` undefined: a gateway that breaks its promise not to hang.
 */
function fetchingProvider(input: Record<string, unknown>, healthUrl: () => string, options: { demo?: boolean; fetchTimeoutMs?: number } = {}): ConfiguredProvider {
  const config = providerConfigSchema.parse(input);
  const health = async (): Promise<ProviderHealth> => {
    const checkedAt = new Date().toISOString();
    try {
      const answer = await fetch(healthUrl(), options.fetchTimeoutMs === undefined ? {} : { signal: AbortSignal.timeout(options.fetchTimeoutMs) });
      const { certificates } = (await answer.json()) as Pick<ProviderHealth, 'certificates'>;
      return { reachable: answer.ok, detail: `GET ${healthUrl()}: HTTP ${answer.status}`, certificates, checkedAt };
    } catch (error) {
      return { reachable: false, detail: `GET ${healthUrl()}: ${String((error as { cause?: { code?: string } }).cause?.code ?? error)}`, checkedAt };
    }
  };
  const gateway: IdentityProvider =
    config.kind === 'ldap'
      ? { id: config.id, kind: 'ldap', verify: () => Promise.resolve(refused('not a directory')), health }
      : {
          id: config.id,
          kind: config.kind,
          start: () => Promise.reject(new Error('these tests do not sign in')),
          finish: () => Promise.resolve(refused('these tests do not sign in')),
          health,
        };
  return { config, gateway, demo: options.demo ?? false, label: (locale) => labelIn(config.label, locale) };
}

describe(`administration: sign-in methods and providers (${testDialect})`, function () {
  let portal: TestPortal;
  let providerServer: Awaited<ReturnType<typeof startProviderServer>>;
  let admin: Agent;
  let camilleId: number;
  const knex = () => portal.db.knex;
  /** Everything a refused link must leave as it was. */
  const state = async () => ({
    links: await knex()('user_identities').orderBy('id').select('user_id', 'provider_id', 'subject', 'linked_by'),
    audit: await knex()('audit_log').count({ count: '*' }).first(),
  });
  const loggedInAs = async (username: string, password: string) => {
    const agent = supertest.agent(portal.app);
    expect((await logIn(agent, username, password)).status).to.equal(303);
    return agent;
  };
  const signInPage = async (agent = admin, language = 'fr') => agent.get('/admin/sign-in').set('Accept-Language', language).expect(200);
  const testProvider = async (path: string, agent = admin) => agent.post(path).set('Accept-Language', 'fr').type('form').send({ _csrf: csrfTokenFrom((await signInPage(agent)).text) });
  const link = async (username: string, fields: Record<string, string>, language = 'fr') => {
    const page = await admin.get(`/admin/people/${username}`).expect(200);
    return admin.post(`/admin/people/${username}/identities`).set('Accept-Language', language).type('form').send({ _csrf: csrfTokenFrom(page.text), ...fields });
  };

  before(async () => {
    const now = Date.parse('2026-11-23T10:00:00Z'); // the test portal's clock
    providerServer = await startProviderServer([
      { subject: 'CN=idp-signing-2025', notAfter: new Date(now - 2 * DAY_MS).toISOString() },
      { subject: 'CN=idp-signing-2026', notAfter: new Date(now + 10 * DAY_MS).toISOString() },
      { subject: 'CN=idp-signing-2027', notAfter: new Date(now + 400 * DAY_MS).toISOString() },
    ]);
    const at = (path: string) => () => `${providerServer.url}${path}`;
    const common = { fetchTimeoutMs: 2_000 };
    const registry = identityRegistry([
      fetchingProvider({ kind: 'saml', id: 'ent', label: { fr: 'ENT', en: 'Campus ENT' }, entryPoint: 'https://idp.example.edu/sso', idpIssuer: 'https://idp.example.edu', idpCertificates: ['MIIB'] }, at('/saml/metadata'), common),
      fetchingProvider({ kind: 'oidc', id: 'keycloak', label: 'Keycloak', issuer: 'https://sso.example.edu/realms/campus', clientId: 'recharge', secret: 'client-secret' }, at('/oidc'), common),
      fetchingProvider({ kind: 'cas', id: 'cas', label: 'CAS', serverUrl: 'https://cas.example.edu/cas' }, at('/cas'), common),
      fetchingProvider({ kind: 'ldap', id: 'annuaire', label: 'Annuaire', url: 'ldaps://ldap.example.edu', bindDn: 'cn=recharge,dc=example,dc=edu', searchBase: 'dc=example,dc=edu', secret: 'bind' }, at('/ldap'), common),
      fetchingProvider({ kind: 'cas', id: 'demo', label: 'Démo CAS', serverUrl: 'http://127.0.0.1:9/cas' }, at('/demo'), { ...common, demo: true }),
    ]);
    portal = await createTestPortal({ PUBLIC_URL }, { identity: registry });
    await portal.addUser('gestion', 'admin-password', { role: 'admin' });
    await portal.addUser('etudiant', 'student-password');
    await portal.addUser('informatique', 'it-team-password', { role: 'it' });
    camilleId = (await portal.addUser('camille', 'camille-password', { displayName: 'Camille Martin' })).id;
    await portal.users.addUser({ username: 'dominique', password: null, displayName: 'Dominique Roy', email: 'dominique@example.edu', role: 'user', locale: null });
    admin = await loggedInAs('gestion', 'admin-password');
  });
  after(async () => {
    await portal.cleanup();
    await providerServer.stop();
  });
  // Each test starts with a fresh window of the test button's limit.
  beforeEach(() => portal.clock.advance(61_000));

  it('lets only admins in: the login page for visitors, 403 for users and IT, and nothing run or written', async () => {
    const visitor = await supertest(portal.app).get('/admin/sign-in');
    expect(visitor.status).to.equal(303);
    expect(visitor.headers.location).to.equal('/login');
    const before = await state();
    for (const [username, password] of [
      ['etudiant', 'student-password'],
      ['informatique', 'it-team-password'],
    ] as const) {
      const agent = await loggedInAs(username, password);
      const token = csrfTokenFrom((await agent.get('/account').expect(200)).text);
      await agent.get('/admin/sign-in').expect(403);
      await agent.get('/admin/people/camille').expect(403);
      await agent.post('/admin/sign-in/test').type('form').send({ _csrf: token }).expect(403);
      await agent.post('/admin/sign-in/ent/test').type('form').send({ _csrf: token }).expect(403);
      await agent.post('/admin/people/camille/identities').type('form').send({ _csrf: token, provider: 'ent', subject: 'camille@example.edu' }).expect(403);
    }
    expect(providerServer.hits).to.equal(0);
    expect(await state()).to.deep.equal(before);
  });

  it('lists each provider with its kind, demo badge and the absolute URLs to give its administrators, in French and English', async () => {
    const french = readable((await signInPage()).text);
    expect(french).to.include('<a href="/admin/sign-in" aria-current="page">Connexion</a>');
    expect(french).to.include('Acceptés pour tout le monde');
    for (const text of ['SAML 2.0', 'OpenID Connect', 'LDAP / Active Directory', 'Démo CAS <span class="muted">(démo)</span>']) expect(french).to.include(text);
    expect(french).to.include(`<code>${PUBLIC_URL}/auth/ent/metadata</code>`).and.include(`<code>${PUBLIC_URL}/auth/ent/acs</code>`);
    expect(french).to.include(`<dt>URI de redirection</dt><dd><code>${PUBLIC_URL}/auth/keycloak/callback</code>`);
    expect(french).to.include(`<dt>URI de redirection après déconnexion</dt><dd><code>${PUBLIC_URL}/login?notice=logged-out</code>`);
    const servicePattern = new RegExp(/<dt>Service \(un motif, par ex\. serviceId d(?:'|&#39;)Apereo CAS\)<\/dt><dd><code>([^<]+)<\/code>/.exec(french)?.[1] ?? 'nothing shown');
    expect(servicePattern.test(`${PUBLIC_URL}/auth/cas/callback?state=Zm9vYmFyLWJhel8tcXV4`)).to.equal(true);
    expect(servicePattern.test(`${PUBLIC_URL}/auth/cas/callback`)).to.equal(false);
    expect(servicePattern.test(`${PUBLIC_URL}/auth/cas/callback?state=x&service=https://evil.example`)).to.equal(false);
    expect(french).to.include("Rien à transmettre : c'est le portail qui interroge l'annuaire");
    expect(french.match(/Pas encore testé depuis le démarrage du serveur\./g)).to.have.length(5);
    const english = readable((await signInPage(admin, 'en')).text);
    expect(english).to.include('Campus ENT').and.include('Service provider (SP) metadata').and.include('Accepted for everyone');
    expect(providerServer.hits).to.equal(0);
  });

  it('tests a provider on demand: reachable with its certificates, warned when expired or within 30 days, then unreachable once its server is gone', async () => {
    const tested = await testProvider('/admin/sign-in/ent/test');
    expect(tested.status).to.equal(200);
    const page = readable(tested.text);
    expect(page).to.include('Test de « ENT » terminé');
    const ent = page.slice(page.indexOf('id="provider-ent"'), page.indexOf('id="provider-keycloak"'));
    expect(ent).to.include('status--paid').and.include('<strong>Joignable</strong>').and.include('HTTP 200');
    expect(ent).to.include('Testé le <time datetime="2026-11-23T');
    expect(ent).to.match(/CN=idp-signing-2025<\/code><\/td>\s*<td>\s*<time[^>]*>[^<]*<\/time>\s*<strong class="field-error" data-expiry="expired">Expiré/);
    expect(ent).to.match(/CN=idp-signing-2026<\/code><\/td>\s*<td>\s*<time[^>]*>[^<]*<\/time>\s*<strong class="field-error" data-expiry="expiring">Expire dans moins de 30 jours/);
    expect(ent).to.match(/CN=idp-signing-2027<\/code><\/td>\s*<td>\s*<time[^>]*>[^<]*<\/time>\s*<\/td>/);
    // Only ENT was asked: the others stay untested.
    expect(page.match(/Pas encore testé depuis le démarrage du serveur\./g)).to.have.length(4);
    expect((await signInPage()).text).to.include('<strong>Joignable</strong>');

    await providerServer.stop();
    try {
      const down = readable((await testProvider('/admin/sign-in/ent/test')).text);
      const entDown = down.slice(down.indexOf('id="provider-ent"'), down.indexOf('id="provider-keycloak"'));
      expect(entDown).to.include('status--failed').and.include('<strong>Injoignable</strong>').and.include('ECONNREFUSED');
    } finally {
      providerServer = await startProviderServer([]);
    }
  });

  it('tests every provider at once, gives up on one that hangs after its timeout, and sums them up on the dashboard', async function () {
    const slow = fetchingProvider({ kind: 'oidc', id: 'lent', label: 'Lent', issuer: 'https://slow.example.edu', clientId: 'recharge', secret: 's', timeoutMs: 500 }, () => `${providerServer.url}/hang`);
    const registry = identityRegistry([slow, fetchingProvider({ kind: 'cas', id: 'cas', label: 'CAS', serverUrl: 'https://cas.example.edu/cas' }, () => `${providerServer.url}/cas`, { fetchTimeoutMs: 2_000 })]);
    const other = await createTestPortal({ PUBLIC_URL }, { identity: registry });
    try {
      await other.addUser('gestion', 'admin-password', { role: 'admin' });
      const agent = supertest.agent(other.app);
      await logIn(agent, 'gestion', 'admin-password');
      expect((await agent.get('/admin').expect(200)).text).to.include('2 fournisseurs de connexion, pas encore testés depuis le démarrage');
      const started = Date.now();
      const answer = await agent.post('/admin/sign-in/test').type('form').send({ _csrf: csrfTokenFrom((await agent.get('/admin/sign-in').expect(200)).text) });
      expect(Date.now() - started, 'the guard answers soon after the provider\'s timeout').to.be.below(1_500 + 1_000);
      const page = readable(answer.text);
      expect(page).to.include('Test de tous les fournisseurs terminé');
      expect(page.slice(page.indexOf('id="provider-lent"'), page.indexOf('id="provider-cas"'))).to.include('<strong>Injoignable</strong>').and.include('no answer within 1500 ms');
      expect(page.slice(page.indexOf('id="provider-cas"'))).to.include('<strong>Joignable</strong>');
      expect((await agent.get('/admin').expect(200)).text).to.include('2 fournisseurs de connexion, 1 injoignable au dernier test');
    } finally {
      await other.cleanup();
    }
  });

  it('limits the test buttons to a few a minute per admin (429 with Retry-After), and lets them again after a minute', async () => {
    for (let count = 0; count < 5; count += 1) expect((await testProvider(count % 2 === 0 ? '/admin/sign-in/cas/test' : '/admin/sign-in/test')).status).to.equal(200);
    const hits = providerServer.hits;
    const refusedTest = await testProvider('/admin/sign-in/cas/test');
    expect(refusedTest.status).to.equal(429);
    expect(Number(refusedTest.headers['retry-after'])).to.be.within(1, 60);
    expect(providerServer.hits, 'no provider reached past the limit').to.equal(hits);
    portal.clock.advance(60_000);
    expect((await testProvider('/admin/sign-in/cas/test')).status).to.equal(200);
  });

  it('refuses a test or a link without a valid CSRF token, running and writing nothing', async () => {
    const hits = providerServer.hits;
    const before = await state();
    await admin.post('/admin/sign-in/ent/test').type('form').send({}).expect(403);
    await admin.post('/admin/sign-in/test').type('form').send({ _csrf: 'forged' }).expect(403);
    await admin.post('/admin/people/camille/identities').type('form').send({ provider: 'ent', subject: 'camille@example.edu' }).expect(403);
    expect(providerServer.hits).to.equal(hits);
    expect(await state()).to.deep.equal(before);
  });

  it('links an account to a provider identifier once, trimmed and audited, and shows it on the person page and the list', async () => {
    const response = await link('camille', { provider: 'ent', subject: '  camille.martin@example.edu  ' });
    expect(response.status).to.equal(303);
    expect(response.headers.location).to.equal('/admin/people/camille?notice=identityLinked');
    expect(await knex()('user_identities').select('user_id', 'provider_id', 'subject', 'linked_by', 'last_sign_in_at')).to.deep.equal([
      { user_id: camilleId, provider_id: 'ent', subject: 'camille.martin@example.edu', linked_by: 'gestion', last_sign_in_at: null },
    ]);
    const audit = await knex()('audit_log').where('action', 'person.link_identity').select('actor_username', 'target', 'before_json', 'after_json');
    expect(audit).to.deep.equal([{ actor_username: 'gestion', target: 'camille', before_json: null, after_json: JSON.stringify({ provider: 'ent', subject: 'camille.martin@example.edu' }) }]);

    let person = readable((await admin.get('/admin/people/camille?notice=identityLinked').expect(200)).text);
    expect(person).to.include("Le compte est lié à son identifiant");
    expect(person).to.include('<li>Mot de passe local</li>');
    expect(person).to.match(/<strong>ENT<\/strong>\s*— identifiant <code>camille\.martin@example\.edu<\/code>\s*— jamais connecté par ce fournisseur\s*<span class="muted">\(lié par gestion\)<\/span>/);
    expect(person).not.to.include('<option value="ent"');
    expect(person).to.include('<option value="keycloak"').and.include('<option value="demo">Démo CAS (démo)</option>');
    expect(person).to.include('Un lien ne peut pas être défait depuis cette page');

    await recordIdentitySignIn(knex(), 'ent', 'camille.martin@example.edu', new Date('2026-11-20T08:30:00Z'));
    person = readable((await admin.get('/admin/people/camille').set('Accept-Language', 'en').expect(200)).text);
    expect(person).to.match(/<strong>Campus ENT<\/strong>\s*— identifier <code>camille\.martin@example\.edu<\/code>\s*— last signed in <time datetime="2026-11-20T08:30:00.000Z">/);
    const list = readable((await admin.get('/admin/people?q=camille').expect(200)).text);
    expect(list).to.match(/Mot de passe local<br>\s*ENT <code>camille\.martin@example\.edu<\/code> <span class="muted">\(dernière connexion le <time datetime="2026-11-20T08:30:00.000Z">/);
    expect(readable((await admin.get('/admin/people?q=dominique').expect(200)).text)).to.include('Aucune : ni mot de passe, ni fournisseur lié.');
  });

  it('refuses an identifier linked to someone else, a second link at the same provider, an unknown provider and a bad identifier, writing nothing', async () => {
    const before = await state();
    expect(before.links).to.have.length(1);

    const taken = await link('dominique', { provider: 'ent', subject: 'camille.martin@example.edu' });
    expect(taken.status).to.equal(409);
    expect(readable(taken.text)).to.include('Cet identifiant est déjà lié au compte camille : rien n\'a été modifié.');
    expect(taken.text).to.include('value="camille.martin@example.edu"');

    const twice = await link('camille', { provider: 'ent', subject: 'c.martin@example.edu' }, 'en');
    expect(twice.status).to.equal(409);
    expect(twice.text).to.include('This account is already linked to this provider: nothing was changed.');

    const unknown = await link('dominique', { provider: 'nowhere', subject: 'dominique@example.edu' });
    expect(unknown.status).to.equal(400);
    expect(unknown.text).to.include('Choisissez un des fournisseurs de la liste.');

    for (const subject of ['   ', 'x'.repeat(513)]) {
      const bad = await link('dominique', { provider: 'keycloak', subject });
      expect(bad.status, subject.slice(0, 5)).to.equal(400);
      expect(bad.text).to.include('Saisissez l&#39;identifiant (512 caractères au plus).');
    }
    expect(await state()).to.deep.equal(before);

    // 512 characters is the most, and another provider is still open to the same person.
    expect((await link('dominique', { provider: 'keycloak', subject: 'd'.repeat(512) })).status).to.equal(303);
    expect((await link('camille', { provider: 'keycloak', subject: 'f3a1c0de-camille' })).status).to.equal(303);
    expect((await state()).links).to.have.length(3);
  });

  it('answers 404 for a person or a provider that does not exist', async () => {
    const token = csrfTokenFrom((await signInPage()).text);
    await admin.post('/admin/sign-in/nowhere/test').type('form').send({ _csrf: token }).expect(404);
    await admin.post('/admin/people/nobody/identities').type('form').send({ _csrf: token, provider: 'ent', subject: 'x' }).expect(404);
  });
});
