import { expect } from 'chai';
import supertest from 'supertest';
import type { User } from '../../src/domain/people/users.js';
import { testDialect } from '../helpers/database.js';
import { createTestPortal, csrfTokenFrom, logIn, sessionCookieOf, type TestPortal } from '../helpers/portal.js';

const PASSWORD = 'a good long password';
const NEW_PASSWORD = 'another long passphrase';
const PAGE = '/account/settings';
const FIREFOX_ON_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';
const SAFARI_ON_IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1';
const CHROME_ON_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

/**
 * Two CAS providers that are configured but never contacted: nobody signs in through them here, the
 * page only reads their settings (names, and whether they provide the person's name and e-mail).
 */
const PROVIDERS = [
  { id: 'ent', kind: 'cas', label: { fr: "ENT de l'université", en: 'University ENT' }, serverUrl: 'http://127.0.0.1:9/cas' },
  { id: 'wiki', kind: 'cas', label: 'Wiki', serverUrl: 'http://127.0.0.1:9/cas', ownsProfile: false },
];

type Agent = ReturnType<typeof supertest.agent>;

/** The session id inside a session cookie (`name=s:<id>.<signature>`, URL-encoded). */
const sidOf = (cookie: string | undefined) => decodeURIComponent(String(cookie).split('=')[1] ?? '').slice(2).split('.')[0] as string;
/** The ids of the sessions the page offers to end. */
const endableIds = (html: string) => [...html.matchAll(/action="\/account\/settings\/sessions\/(\d+)\/end"/g)].map((match) => Number(match[1]));

describe(`my account page (${testDialect})`, () => {
  let portal: TestPortal;
  const knex = () => portal.db.knex;

  before(async () => {
    portal = await createTestPortal({ IDENTITY_PROVIDERS: JSON.stringify(PROVIDERS) });
  });
  after(() => portal.cleanup());

  /** A new person and a browser signed in as them. */
  async function signedIn(username: string, userAgent = CHROME_ON_WINDOWS): Promise<{ person: User; agent: Agent; sid: string }> {
    const person = await portal.addUser(username, PASSWORD, { displayName: `Name of ${username}`, email: `${username}@example.edu` });
    return { person, ...(await anotherBrowser(username, userAgent)) };
  }

  async function anotherBrowser(username: string, userAgent: string): Promise<{ agent: Agent; sid: string }> {
    const agent = supertest.agent(portal.app);
    const login = await logIn(agent, username, PASSWORD, { 'User-Agent': userAgent });
    expect(login.status).to.equal(303);
    return { agent, sid: sidOf(sessionCookieOf(login)) };
  }

  const pageOf = async (agent: Agent, headers: Record<string, string> = {}) => {
    const page = await agent.get(PAGE).set(headers);
    expect(page.status).to.equal(200);
    return page;
  };
  const post = async (agent: Agent, path: string, fields: Record<string, string> = {}) =>
    agent.post(path).type('form').send({ _csrf: csrfTokenFrom((await pageOf(agent)).text), ...fields });
  const stillSignedIn = async (agent: Agent) => (await agent.get('/account')).status === 200;
  const userRow = (username: string) => knex()('users').where('username', username).first('display_name', 'email', 'password_hash', 'session_version');
  const auditOf = (username: string) => knex()('audit_log').where('target', username).orderBy('id').select('actor_username', 'action', 'before_json', 'after_json');

  it('sends visitors to the login page', async () => {
    const response = await supertest(portal.app).get(PAGE);
    expect(response.status).to.equal(303);
    expect(response.headers.location).to.equal('/login');
  });

  it('shows the sign-in method, the profile, the language, the password form and this session, in French or English, never cached', async () => {
    const { agent } = await signedIn('camille');
    const page = await pageOf(agent);
    expect(page.headers['cache-control']).to.equal('no-store');
    expect(page.text).to.include('<h1>Mon compte</h1>').and.include('href="/account/settings">Mon compte</a>');
    expect(page.text).to.include('<dd>camille</dd>').and.include('<dd>Mot de passe du portail</dd>');
    expect(page.text).to.include('action="/account/settings/profile"').and.include('value="Name of camille"').and.include('value="camille@example.edu"');
    expect(page.text).to.include('action="/language"').and.include('name="returnTo" value="/account/settings"');
    expect(page.text).to.include('action="/account/settings/password"').and.include('autocomplete="current-password"');
    expect(page.text).to.include('<h3 id="session-').and.include('Chrome sous Windows').and.include('Cette session (cet appareil)');
    // The session in use is ended by logging out: no button to end it, nor "all others" when there are none.
    expect(endableIds(page.text)).to.deep.equal([]);
    expect(page.text).not.to.include('/sessions/end-others');

    const english = await pageOf(agent, { 'Accept-Language': 'en' });
    expect(english.text).to.include('<h1>My account</h1>').and.include('<dd>Portal password</dd>').and.include('Chrome on Windows').and.include('This session (this device)');
  });

  it('changes the name and e-mail for receipts, audited, without ending any session', async () => {
    const { agent } = await signedIn('dominique');
    const { agent: phone } = await anotherBrowser('dominique', SAFARI_ON_IPHONE);
    const versionBefore = (await userRow('dominique')).session_version;
    const saved = await post(agent, `${PAGE}/profile`, { displayName: '  Dominique Durand ', email: 'd.durand@example.edu' });
    expect(saved.status).to.equal(303);
    expect(saved.headers.location).to.equal(`${PAGE}?notice=profileSaved`);
    expect(await userRow('dominique')).to.include({ display_name: 'Dominique Durand', email: 'd.durand@example.edu', session_version: versionBefore });
    expect((await agent.get(saved.headers.location as string)).text).to.include('Votre nom et votre adresse e-mail sont enregistrés.').and.include('value="Dominique Durand"');
    expect(await stillSignedIn(phone)).to.equal(true);
    const [entry] = await auditOf('dominique');
    expect(entry).to.include({ actor_username: 'dominique', action: 'account.profile' });
    expect(JSON.parse(entry.before_json)).to.deep.equal({ displayName: 'Name of dominique', email: 'dominique@example.edu' });
    expect(JSON.parse(entry.after_json)).to.deep.equal({ displayName: 'Dominique Durand', email: 'd.durand@example.edu' });

    const again = await post(agent, `${PAGE}/profile`, { displayName: 'Dominique Durand', email: 'd.durand@example.edu' });
    expect(again.headers.location).to.equal(`${PAGE}?notice=profileUnchanged`);
    expect(await auditOf('dominique')).to.have.length(1);
  });

  it('refuses an empty name or a bad e-mail with 400, a message on each field in the person’s language, and changes nothing', async () => {
    const { agent } = await signedIn('eloise');
    const before = await userRow('eloise');
    const french = await post(agent, `${PAGE}/profile`, { displayName: '   ', email: 'not-an-address' });
    expect(french.status).to.equal(400);
    expect(french.text).to.include('Rien n&#39;a été enregistré').and.include('id="displayName-error"').and.include('Saisissez votre nom, en 200 caractères au plus.');
    expect(french.text).to.include('id="email-error"').and.include('Saisissez une adresse e-mail valable').and.include('value="not-an-address"');
    expect(french.text.match(/aria-invalid="true"/g)).to.have.length(2);

    const english = await agent
      .post(`${PAGE}/profile`)
      .set('Accept-Language', 'en')
      .type('form')
      .send({ _csrf: csrfTokenFrom((await pageOf(agent)).text), displayName: 'Éloïse', email: 'eloise@' });
    expect(english.status).to.equal(400);
    expect(english.text).to.include('Enter a valid e-mail address').and.not.include('id="displayName-error"');

    const tooLong = await post(agent, `${PAGE}/profile`, { displayName: 'x'.repeat(201), email: 'eloise@example.edu' });
    expect(tooLong.status).to.equal(400);
    expect(tooLong.text).to.include('id="displayName-error"');

    expect(await userRow('eloise')).to.deep.equal(before);
    expect(await auditOf('eloise')).to.deep.equal([]);
  });

  it('shows the name and e-mail read-only when a linked provider provides them, and refuses to change them', async () => {
    const { person, agent } = await signedIn('fanny');
    await knex()('user_identities').insert({ user_id: person.id, provider_id: 'ent', subject: 'fanny-at-ent', linked_by: null, created_at: new Date().toISOString() });
    const page = await pageOf(agent);
    expect(page.text).to.include('Votre établissement fournit votre nom et votre adresse e-mail (ENT de l&#39;université)');
    expect(page.text).to.include('<dd>Name of fanny</dd>').and.include('<dd>fanny@example.edu</dd>');
    expect(page.text).not.to.include('action="/account/settings/profile"');
    expect(page.text).to.include('<dt>Comptes liés</dt>').and.include('ENT de l&#39;université, depuis le');
    expect((await pageOf(agent, { 'Accept-Language': 'en' })).text).to.include('Your institution provides your name and e-mail address (University ENT)');

    const refused = await post(agent, `${PAGE}/profile`, { displayName: 'Someone Else', email: 'else@example.edu' });
    expect(refused.status).to.equal(403);
    expect(await userRow('fanny')).to.include({ display_name: 'Name of fanny', email: 'fanny@example.edu' });
  });

  it('lets the person edit their profile when their provider does not provide it, and names that provider as the sign-in method', async () => {
    const { person, agent, sid } = await signedIn('gaspard');
    await knex()('user_identities').insert({ user_id: person.id, provider_id: 'wiki', subject: 'gaspard-at-wiki', linked_by: null, created_at: new Date().toISOString() });
    // As if this session had been opened through the provider (no protocol is exercised here).
    await knex()('login_sessions').where('sid', sid).update({ method: 'wiki' });
    const page = await pageOf(agent);
    expect(page.text).to.include('action="/account/settings/profile"').and.include('<dd>Wiki</dd>');
    const saved = await post(agent, `${PAGE}/profile`, { displayName: 'Gaspard G.', email: 'gaspard@example.edu' });
    expect(saved.status).to.equal(303);
  });

  it('changes the password with the current one, keeps this session signed in and ends every other', async () => {
    const { agent, sid } = await signedIn('hugo');
    const { agent: other, sid: otherSid } = await anotherBrowser('hugo', FIREFOX_ON_LINUX);
    const before = await userRow('hugo');

    const wrong = await post(agent, `${PAGE}/password`, { currentPassword: 'not my password', newPassword: NEW_PASSWORD, newPasswordAgain: NEW_PASSWORD });
    expect(wrong.status).to.equal(400);
    expect(wrong.text).to.include('id="currentPassword-error"').and.include('Ce n&#39;est pas votre mot de passe actuel.');
    const missing = await post(agent, `${PAGE}/password`, { currentPassword: '', newPassword: 'short', newPasswordAgain: 'short' });
    expect(missing.status).to.equal(400);
    expect(missing.text).to.include('Saisissez votre mot de passe actuel.').and.include('Le nouveau mot de passe doit comporter de 8 à 1024 caractères.');
    const mismatch = await post(agent, `${PAGE}/password`, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD, newPasswordAgain: `${NEW_PASSWORD}!` });
    expect(mismatch.status).to.equal(400);
    expect(mismatch.text).to.include('id="newPasswordAgain-error"').and.include('Les deux saisies du nouveau mot de passe ne sont pas identiques.');
    expect(await userRow('hugo')).to.deep.equal(before);
    expect(await stillSignedIn(other)).to.equal(true);

    const changed = await post(agent, `${PAGE}/password`, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD, newPasswordAgain: NEW_PASSWORD });
    expect(changed.status).to.equal(303);
    expect(changed.headers.location).to.equal(`${PAGE}?notice=passwordChanged`);
    const after = await userRow('hugo');
    expect(after.session_version).to.equal(before.session_version + 1);
    expect(await portal.hasher.verify(after.password_hash, NEW_PASSWORD)).to.equal(true);

    expect((await agent.get(changed.headers.location as string).expect(200)).text).to.include('Vos autres sessions sont fermées ; celle-ci reste ouverte.');
    const stored = await knex()('sessions').where('sid', sid).first('sess');
    expect(JSON.parse(typeof stored.sess === 'string' ? stored.sess : JSON.stringify(stored.sess)).sessionVersion).to.equal(after.session_version);
    expect(await knex()('sessions').where('sid', otherSid).first()).to.equal(undefined);
    expect(await stillSignedIn(other)).to.equal(false);
    expect((await logIn(supertest.agent(portal.app), 'hugo', PASSWORD)).status).to.equal(401);
    expect((await logIn(supertest.agent(portal.app), 'hugo', NEW_PASSWORD)).status).to.equal(303);
    const audit = await auditOf('hugo');
    expect(audit.map((entry) => entry.action)).to.deep.equal(['account.password']);
    expect(audit[0]!.after_json).not.to.include(NEW_PASSWORD);
  });

  it('limits password changes per person: 429 past five tries in a quarter of an hour', async () => {
    const { agent } = await signedIn('ines');
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      expect((await post(agent, `${PAGE}/password`, { currentPassword: `guess ${attempt}`, newPassword: NEW_PASSWORD, newPasswordAgain: NEW_PASSWORD })).status).to.equal(400);
    }
    const limited = await post(agent, `${PAGE}/password`, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD, newPasswordAgain: NEW_PASSWORD });
    expect(limited.status).to.equal(429);
    expect(Number(limited.headers['retry-after'])).to.be.greaterThan(0);
    expect(await portal.hasher.verify((await userRow('ines')).password_hash, PASSWORD)).to.equal(true);
  });

  it('limits the other changes per person too: 429 past thirty in a quarter of an hour, profile and sessions together', async () => {
    const { agent } = await signedIn('sacha');
    for (let change = 1; change <= 29; change += 1) {
      expect((await post(agent, `${PAGE}/profile`, { displayName: `Sacha ${change}`, email: 'sacha@example.edu' })).status).to.equal(303);
    }
    expect((await post(agent, `${PAGE}/sessions/end-others`)).status).to.equal(303);
    const limited = await post(agent, `${PAGE}/profile`, { displayName: 'Sacha 31', email: 'sacha@example.edu' });
    expect(limited.status).to.equal(429);
    expect((await userRow('sacha')).display_name).to.equal('Sacha 29');
  });

  it('changes no password for a session that ended while it was asked (an admin changed the role meanwhile)', async () => {
    const { person, sid } = await signedIn('ilan');
    await portal.users.setRole('ilan', 'it');
    const outcome = await portal.users.changeOwnPassword(person, { current: PASSWORD, next: NEW_PASSWORD }, sid);
    expect(outcome).to.deep.equal({ outcome: 'session_ended' });
    expect(await portal.hasher.verify((await userRow('ilan')).password_hash, PASSWORD)).to.equal(true);
  });

  it('offers no password change to a person without a portal password, and refuses one', async () => {
    const { agent } = await signedIn('jules');
    // Jules signs in through a provider only: as if the portal had never had a password for them.
    await knex()('users').where('username', 'jules').update({ password_hash: null });
    const page = await pageOf(agent);
    expect(page.text).not.to.include('action="/account/settings/password"');
    const refused = await post(agent, `${PAGE}/password`, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD, newPasswordAgain: NEW_PASSWORD });
    expect(refused.status).to.equal(403);
    expect((await userRow('jules')).password_hash).to.equal(null);
  });

  it('lists each open session with its device, and ends one of them', async () => {
    const { agent } = await signedIn('karim');
    const { agent: laptop, sid: laptopSid } = await anotherBrowser('karim', FIREFOX_ON_LINUX);
    const page = await pageOf(agent);
    expect(page.text).to.include('Chrome sous Windows').and.include('Firefox sous Linux').and.include('action="/account/settings/sessions/end-others"');
    const [laptopId, ...more] = endableIds(page.text);
    expect(more).to.deep.equal([]);

    const ended = await post(agent, `${PAGE}/sessions/${laptopId}/end`);
    expect(ended.status).to.equal(303);
    expect(ended.headers.location).to.equal(`${PAGE}?notice=sessionEnded`);
    expect(await knex()('sessions').where('sid', laptopSid).first()).to.equal(undefined);
    expect(await stillSignedIn(laptop)).to.equal(false);
    expect(await stillSignedIn(agent)).to.equal(true);
    const after = await agent.get(ended.headers.location as string).expect(200);
    expect(after.text).to.include('La session est fermée').and.not.include('Firefox sous Linux');
    expect((await auditOf('karim')).map((entry) => entry.action)).to.deep.equal(['account.session_end']);

    const again = await post(agent, `${PAGE}/sessions/${laptopId}/end`);
    expect(again.status).to.equal(404);
  });

  it('ends all the other sessions at once', async () => {
    const { agent } = await signedIn('lea');
    const others = [await anotherBrowser('lea', FIREFOX_ON_LINUX), await anotherBrowser('lea', SAFARI_ON_IPHONE)];
    expect(endableIds((await pageOf(agent)).text)).to.have.length(2);
    const ended = await post(agent, `${PAGE}/sessions/end-others`);
    expect(ended.headers.location).to.equal(`${PAGE}?notice=othersEnded`);
    for (const other of others) {
      expect(await stillSignedIn(other.agent)).to.equal(false);
      expect(await knex()('sessions').where('sid', other.sid).first()).to.equal(undefined);
    }
    expect(await stillSignedIn(agent)).to.equal(true);
    const audit = await auditOf('lea');
    expect(audit.map((entry) => [entry.action, JSON.parse(entry.before_json)])).to.deep.equal([['account.sessions_end_others', { otherSessions: 2 }]]);
    expect((await post(agent, `${PAGE}/sessions/end-others`)).headers.location).to.equal(`${PAGE}?notice=noOthers`);
  });

  it('never ends another person’s session: 404, and that session goes on', async () => {
    const { agent } = await signedIn('mathis');
    const { person: victim, agent: victimAgent, sid: victimSid } = await signedIn('nadia');
    const victimSession = await knex()('login_sessions').where('user_id', victim.id).first('id');
    const refused = await post(agent, `${PAGE}/sessions/${victimSession.id}/end`);
    expect(refused.status).to.equal(404);
    expect(await stillSignedIn(victimAgent)).to.equal(true);
    expect(await knex()('sessions').where('sid', victimSid).first()).not.to.equal(undefined);
    expect(await knex()('login_sessions').where('id', victimSession.id).first()).not.to.equal(undefined);
    for (const id of ['0', 'abc', '1e3', '99999999999999999999']) {
      expect((await post(agent, `${PAGE}/sessions/${id}/end`)).status).to.equal(404);
    }
  });

  it('does not end the session in use through its id: logging out does', async () => {
    const { person, agent, sid } = await signedIn('oscar');
    const own = await knex()('login_sessions').where({ user_id: person.id, sid }).first('id');
    expect((await post(agent, `${PAGE}/sessions/${own.id}/end`)).status).to.equal(400);
    expect(await stillSignedIn(agent)).to.equal(true);
  });

  it('refuses every form without its CSRF token (403), and changes nothing', async () => {
    const { agent } = await signedIn('pauline');
    const { agent: other } = await anotherBrowser('pauline', FIREFOX_ON_LINUX);
    const otherId = endableIds((await pageOf(agent)).text)[0];
    const before = await userRow('pauline');
    const forms: Array<[string, Record<string, string>]> = [
      [`${PAGE}/profile`, { displayName: 'Forged', email: 'forged@example.edu' }],
      [`${PAGE}/password`, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD, newPasswordAgain: NEW_PASSWORD }],
      [`${PAGE}/sessions/${otherId}/end`, {}],
      [`${PAGE}/sessions/end-others`, {}],
    ];
    for (const [path, fields] of forms) {
      expect((await agent.post(path).type('form').send(fields)).status, path).to.equal(403);
    }
    expect(await userRow('pauline')).to.deep.equal(before);
    expect(await stillSignedIn(other)).to.equal(true);
  });

  it('changes the language from the page and comes back to it', async () => {
    const { agent } = await signedIn('quentin');
    const changed = await post(agent, '/language', { locale: 'en', returnTo: PAGE });
    expect(changed.status).to.equal(303);
    expect(changed.headers.location).to.equal(PAGE);
    expect((await pageOf(agent)).text).to.include('<h1>My account</h1>');
  });

  it('forgets, at the next sign-in, the sign-ins whose session ended, and keeps a long User-Agent to 300 characters', async () => {
    const { person, agent } = await signedIn('romane');
    await agent.post('/logout').type('form').send({ _csrf: csrfTokenFrom((await pageOf(agent)).text) });
    expect(await knex()('login_sessions').where('user_id', person.id).select('id')).to.have.length(1);
    portal.clock.advance(2 * 60_000);
    await anotherBrowser('romane', `${FIREFOX_ON_LINUX} ${'x'.repeat(400)}`);
    const rows = await knex()('login_sessions').where('user_id', person.id).select('user_agent');
    expect(rows).to.have.length(1);
    expect(rows[0].user_agent).to.have.length(300);
  });
});
