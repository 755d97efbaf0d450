import { expect } from 'chai';
import supertest from 'supertest';
import { createTranslations } from '../../src/i18n/index.js';
import { PEOPLE, SERVICE_ACCOUNT, STAFF_GROUP, startSlapd, SUFFIX, type TestDirectory } from '../helpers/identity/slapd.js';
import { startSilentDirectory, startStallingProxy, type StalledDirectory } from '../helpers/identity/stalled-directories.js';
import { createTestPortal, logIn, sessionCookieOf, type TestPortal } from '../helpers/portal.js';

const PASSWORD = 'a portal password long enough';
const DAY = 24 * 60 * 60_000;
const translations = createTranslations();
/** A message as EJS writes it into the page. */
const inPage = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;');
/** The login page's error message. */
const errorOf = (html: string) => /<p class="error" role="alert" id="login-error">([^<]*)<\/p>/.exec(html)?.[1];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const directoryProvider = (url: string, fields: Record<string, unknown> = {}) => ({
  id: 'annuaire',
  kind: 'ldap',
  label: { fr: "Annuaire de l'université", en: 'University directory' },
  url,
  bindDn: SERVICE_ACCOUNT.dn,
  searchBase: SUFFIX,
  roleRules: [{ attribute: 'memberOf', value: STAFF_GROUP, role: 'admin' }],
  ...fields,
});

/**
 * The login form with an LDAP directory configured (Debian's slapd, started by the test): the portal
 * is configured through the environment as a deployment is. It reaches slapd through a proxy that
 * counts connections, so that a test can prove the directory was not even asked.
 */
describe('LDAP sign-in on the login form (slapd)', function () {
  this.timeout(30_000);
  let directory: TestDirectory;
  let proxy: StalledDirectory;
  let portal: TestPortal;

  before(async () => {
    directory = await startSlapd();
    // Passes LDAP through until a TLS handshake, which these tests never start: a connection counter.
    proxy = await startStallingProxy(new URL(directory.ldapUrl));
    portal = await createTestPortal({
      IDENTITY_PROVIDERS: JSON.stringify([directoryProvider(proxy.url)]),
      IDENTITY_ANNUAIRE_SECRET: SERVICE_ACCOUNT.password,
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '3',
    });
    await portal.addUser('direction', PASSWORD, { role: 'admin' });
    await portal.addUser('camille', PASSWORD);
  });
  after(async () => {
    await portal?.cleanup();
    await proxy?.close();
    await directory?.stop();
  });
  // Each test starts long after the previous one's failed attempts stopped counting.
  beforeEach(() => portal.clock.advance(DAY));

  const count = async (table: string) => Number((await portal.db.knex(table).count({ count: '*' }))[0]?.count);
  const footprint = async () => ({ users: await count('users'), identities: await count('user_identities'), signIns: await count('login_sessions') });

  async function expectRefused(response: supertest.Response, status: number, message: string) {
    expect(response.status, response.text).to.equal(status);
    expect(errorOf(response.text)).to.equal(message);
    expect(sessionCookieOf(response)).to.equal(undefined);
  }

  it('creates the account at the first sign-in with the name, e-mail, language and role the directory gives, and finds it again', async () => {
    const login = await supertest(portal.app).get('/login').expect(200);
    expect(login.text).to.include(inPage(translations('fr')('signIn.directoryHint', { directories: "Annuaire de l'université" })));

    const alice = supertest.agent(portal.app).set('Accept-Language', 'en');
    const signedIn = await logIn(alice, 'adupont', PEOPLE.alice.password);
    expect(signedIn.status, signedIn.text).to.equal(303);
    expect(signedIn.headers.location).to.equal('/account');
    const page = await alice.get('/account').expect(200);
    expect(page.text).to.include('<html lang="fr">').and.include('<dd>Alice Dupont</dd>').and.include('<dd>alice.dupont@example.org</dd>').and.include('href="/admin"');
    const person = await portal.db.knex('users').where({ username: 'adupont' }).first('id', 'role', 'display_name', 'email', 'locale', 'password_hash');
    expect(person).to.include({ role: 'admin', display_name: 'Alice Dupont', email: 'alice.dupont@example.org', locale: 'fr', password_hash: null });
    const links = await portal.db.knex('user_identities').where({ user_id: person.id }).select('provider_id', 'subject');
    expect(links).to.have.lengthOf(1);
    expect(links[0]).to.include({ provider_id: 'annuaire' }).and.have.property('subject').that.matches(UUID);
    expect(await portal.db.knex('login_sessions').where({ user_id: person.id }).pluck('method')).to.deep.equal(['annuaire']);

    const bob = supertest.agent(portal.app);
    expect((await logIn(bob, 'bmartin', PEOPLE.bob.password)).status).to.equal(303);
    const bobsPage = await bob.get('/account').expect(200);
    expect(bobsPage.text).to.include('<html lang="en">').and.include('<dd>Bob Martin</dd>').and.not.include('href="/admin"');

    const before = await footprint();
    expect((await logIn(supertest.agent(portal.app), 'ADupont ', PEOPLE.alice.password)).status).to.equal(303);
    expect(await footprint()).to.deep.equal({ ...before, signIns: before.signIns + 1 });
  });

  it('answers a wrong directory password, and an unknown username, exactly as a wrong portal password', async () => {
    const portalPassword = await logIn(supertest.agent(portal.app), 'camille', 'not her password');
    await expectRefused(portalPassword, 401, inPage(translations('fr')('login.invalid')));
    const before = await footprint();
    await expectRefused(await logIn(supertest.agent(portal.app), 'bmartin', 'not his password'), 401, errorOf(portalPassword.text)!);
    await expectRefused(await logIn(supertest.agent(portal.app), 'nobody-here', PEOPLE.bob.password), 401, errorOf(portalPassword.text)!);
    expect(await footprint()).to.deep.equal(before);
  });

  it('finds nobody for filter syntax typed as the username, even with a real password', async () => {
    const before = await footprint();
    for (const username of ['*', '*)(uid=*', 'adupont)(|(uid=*', 'adu*', 'bmartin)(objectClass=*']) {
      const password = username.startsWith('b') ? PEOPLE.bob.password : PEOPLE.alice.password;
      await expectRefused(await logIn(supertest.agent(portal.app), username, password), 401, inPage(translations('fr')('login.invalid')));
    }
    expect(await footprint()).to.deep.equal(before);
  });

  it('refuses an empty password as an incomplete form, without connecting to the directory', async () => {
    const connections = proxy.connections;
    const refused = await logIn(supertest.agent(portal.app), 'bmartin', '');
    await expectRefused(refused, 400, inPage(translations('fr')('login.missingFields')));
    expect(proxy.connections).to.equal(connections);
  });

  it('throttles a directory username as a portal one: past the failures allowed, even the right password waits, and the directory is not asked', async () => {
    const before = await footprint();
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect((await logIn(supertest.agent(portal.app), 'gpetit', 'guessing')).status).to.equal(401);
    }
    const connections = proxy.connections;
    const throttled = await logIn(supertest.agent(portal.app), 'gpetit', PEOPLE.guest.password);
    expect(throttled.status).to.equal(429);
    expect(Number(throttled.headers['retry-after'])).to.be.above(0);
    expect(sessionCookieOf(throttled)).to.equal(undefined);
    expect(proxy.connections).to.equal(connections);
    expect(await footprint()).to.deep.equal(before);
  });

  it('signs in an admin, and a person, with their portal password, without asking the directory', async () => {
    const connections = proxy.connections;
    for (const username of ['direction', 'camille']) {
      const response = await logIn(supertest.agent(portal.app), username, PASSWORD);
      expect(response.status, response.text).to.equal(303);
      expect(response.headers.location).to.equal('/account');
    }
    expect(proxy.connections).to.equal(connections);
    const methods = await portal.db.knex('login_sessions').join('users', 'users.id', 'login_sessions.user_id').whereIn('users.username', ['direction', 'camille']).pluck('method');
    expect(methods).to.deep.equal(['password', 'password']);
  });

  describe('a directory that does not answer', () => {
    let silent: StalledDirectory;
    let stranded: TestPortal;
    const TIMEOUT_MS = 1000;

    before(async () => {
      silent = await startSilentDirectory();
      stranded = await createTestPortal({ IDENTITY_PROVIDERS: JSON.stringify([directoryProvider(silent.url, { timeoutMs: TIMEOUT_MS })]), IDENTITY_ANNUAIRE_SECRET: SERVICE_ACCOUNT.password });
      await stranded.addUser('direction', PASSWORD, { role: 'admin' });
    });
    after(async () => {
      await stranded?.cleanup();
      await silent?.close();
    });

    const timed = async <T>(work: () => Promise<T>) => {
      const started = performance.now();
      const result = await work();
      return { result, elapsed: performance.now() - started };
    };

    it('says so clearly once its timeout has passed, not later, and lets an admin in with a portal password meanwhile', async () => {
      const { result, elapsed } = await timed(() => logIn(supertest.agent(stranded.app), 'adupont', PEOPLE.alice.password));
      await expectRefused(result, 503, inPage(translations('fr')('signIn.directoryUnavailable')));
      expect(silent.connections).to.be.above(0);
      expect(elapsed).to.be.within(TIMEOUT_MS * 0.9, TIMEOUT_MS + 1500);
      expect((await logIn(supertest.agent(stranded.app), 'direction', PASSWORD)).status).to.equal(303);
    });

    it('says so at once when nothing listens at its address', async () => {
      await silent.close();
      const { result, elapsed } = await timed(() => logIn(supertest.agent(stranded.app).set('Accept-Language', 'en'), 'adupont', PEOPLE.alice.password));
      await expectRefused(result, 503, inPage(translations('en')('signIn.directoryUnavailable')));
      expect(elapsed).to.be.below(TIMEOUT_MS);
    });
  });
});
