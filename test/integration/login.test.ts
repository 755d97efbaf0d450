import { expect } from 'chai';
import supertest from 'supertest';
import { cookiesOf, createTestPortal, csrfTokenFrom, logIn, sessionCookieOf, type TestPortal } from '../helpers/portal.js';
import { testDialect } from '../helpers/database.js';

const PASSWORD = 'correct horse battery';
const MINUTE = 60_000;

describe(`login and sessions (${testDialect})`, () => {
  let portal: TestPortal;
  before(async () => {
    portal = await createTestPortal();
    await portal.addUser('camille', PASSWORD, { displayName: 'Camille Martin' });
  });
  after(() => portal.cleanup());

  it('shows the login page in French by default and in English for Accept-Language: en', async () => {
    const french = await supertest(portal.app).get('/login').expect(200);
    expect(french.text).to.include('<html lang="fr">').and.include('Nom d&#39;utilisateur');
    const english = await supertest(portal.app).get('/login').set('Accept-Language', 'en-GB,en;q=0.9').expect(200);
    expect(english.text).to.include('<html lang="en">').and.include('Username');
    expect(english.headers['content-language']).to.equal('en');
  });

  it('gives visitors no session to plant, and each login a new session id that logging out makes worthless', async () => {
    const agent = supertest.agent(portal.app);
    const page = await agent.get('/login');
    expect(sessionCookieOf(page)).to.equal(undefined);
    const login = await agent.post('/login').type('form').send({ _csrf: csrfTokenFrom(page.text), username: 'Camille', password: PASSWORD });
    expect(login.status).to.equal(303);
    expect(login.headers.location).to.equal('/account');
    const first = sessionCookieOf(login);
    expect(first).to.be.a('string');
    await agent.get('/account').expect(200);
    await agent.post('/logout').type('form').send({ _csrf: csrfTokenFrom((await agent.get('/account')).text) }).expect(303);
    const second = sessionCookieOf(await logIn(agent, 'camille', PASSWORD));
    expect(second).to.be.a('string').and.not.equal(first);
    const replayed = await supertest(portal.app).get('/account').set('Cookie', first as string);
    expect(replayed.status).to.equal(303);
    expect(replayed.headers.location).to.equal('/login');
  });

  it('renews the session id at login even over a session already signed in: the id from before opens nothing afterwards', async () => {
    await portal.addUser('mallory', PASSWORD);
    const agent = supertest.agent(portal.app);
    const before = sessionCookieOf(await logIn(agent, 'mallory', PASSWORD));
    // The login form sent with this session (its CSRF token from a page of the session).
    const page = await agent.get('/account').expect(200);
    const login = await agent.post('/login').type('form').send({ _csrf: csrfTokenFrom(page.text), username: 'camille', password: PASSWORD });
    expect(login.status).to.equal(303);
    const after = sessionCookieOf(login);
    expect(after).to.be.a('string').and.not.equal(before);
    expect((await supertest(portal.app).get('/account').set('Cookie', after as string).expect(200)).text).to.include('Camille Martin');
    const replayed = await supertest(portal.app).get('/account').set('Cookie', before as string);
    expect(replayed.status).to.equal(303);
  });

  it('answers an unknown username exactly as a wrong password, after the same password check', async () => {
    const wrongPassword = await logIn(supertest.agent(portal.app), 'camille', 'not the password');
    const verificationsBefore = portal.hasher.verifications;
    const unknownUser = await logIn(supertest.agent(portal.app), 'nobody-here', 'not the password');
    expect(portal.hasher.verifications - verificationsBefore).to.equal(1);
    expect([wrongPassword.status, unknownUser.status]).to.deep.equal([401, 401]);
    const message = (html: string) => /<p class="error"[^>]*>([^<]*)</.exec(html)?.[1];
    expect(message(wrongPassword.text)).to.equal('Nom d&#39;utilisateur ou mot de passe incorrect.');
    expect(message(unknownUser.text)).to.equal(message(wrongPassword.text));
  });

  it('refuses a login without its CSRF token, or with the token of another session', async () => {
    const agent = supertest.agent(portal.app);
    await agent.get('/login');
    const missing = await agent.post('/login').type('form').send({ username: 'camille', password: PASSWORD });
    expect(missing.status).to.equal(403);
    expect(missing.text).to.include('Formulaire expiré');
    const otherToken = csrfTokenFrom((await supertest(portal.app).get('/login')).text);
    const foreign = await agent.post('/login').type('form').send({ _csrf: otherToken, username: 'camille', password: PASSWORD });
    expect(foreign.status).to.equal(403);
    await agent.get('/account').expect(303);
  });

  it('answers a very long username like any unknown one', async () => {
    const response = await logIn(supertest.agent(portal.app), 'u'.repeat(320), 'not the password');
    expect(response.status).to.equal(401);
  });

  it('answers 400 with a clear message when a field is missing', async () => {
    const agent = supertest.agent(portal.app);
    const page = await agent.get('/login').set('Accept-Language', 'en');
    const response = await agent.post('/login').set('Accept-Language', 'en').type('form').send({ _csrf: csrfTokenFrom(page.text), username: 'camille' });
    expect(response.status).to.equal(400);
    expect(response.text).to.include('Enter your username and your password.').and.include('value="camille"');
  });

  it('says an account is disabled only to someone who knows its password', async () => {
    await portal.addUser('gone', PASSWORD);
    await portal.users.setDisabled('gone', true);
    const right = await logIn(supertest.agent(portal.app), 'gone', PASSWORD);
    expect(right.status).to.equal(403);
    expect(right.text).to.include('Ce compte est désactivé.');
    const wrong = await logIn(supertest.agent(portal.app), 'gone', 'wrong password!');
    expect(wrong.status).to.equal(401);
  });

  it('ends the sessions of a person who is disabled while logged in', async () => {
    await portal.addUser('soon-disabled', PASSWORD);
    const agent = supertest.agent(portal.app);
    await logIn(agent, 'soon-disabled', PASSWORD);
    await agent.get('/account').expect(200);
    await portal.users.setDisabled('soon-disabled', true);
    const response = await agent.get('/account');
    expect(response.status).to.equal(303);
    expect(response.headers.location).to.equal('/login?notice=session-expired');
  });

  it('ends the sessions opened before a password or role change, and keeps later ones', async () => {
    await portal.addUser('changing', PASSWORD);
    for (const change of [() => portal.users.setPassword('changing', PASSWORD), () => portal.users.setRole('changing', 'it')]) {
      const before = supertest.agent(portal.app);
      await logIn(before, 'changing', PASSWORD);
      await before.get('/account').expect(200);
      await change();
      expect((await before.get('/account')).headers.location).to.equal('/login?notice=session-expired');
      const after = supertest.agent(portal.app);
      await logIn(after, 'changing', PASSWORD);
      await after.get('/account').expect(200);
    }
  });

  it('keeps sessions in the database and removes them at logout', async () => {
    const agent = supertest.agent(portal.app);
    const login = await logIn(agent, 'camille', PASSWORD);
    const cookie = sessionCookieOf(login) as string;
    const sid = decodeURIComponent(cookie.split('=')[1] as string).slice(2).split('.')[0];
    const stored = await portal.db.knex('sessions').where('sid', sid).first();
    const data = typeof stored.sess === 'string' ? JSON.parse(stored.sess) : stored.sess;
    expect(data.userId).to.be.a('number');

    const account = await agent.get('/account');
    await agent.post('/logout').type('form').send({}).expect(403);
    const logout = await agent.post('/logout').type('form').send({ _csrf: csrfTokenFrom(account.text) });
    expect(logout.status).to.equal(303);
    expect(logout.headers.location).to.equal('/login?notice=logged-out');
    expect(await portal.db.knex('sessions').where('sid', sid).first()).to.equal(undefined);
    await supertest(portal.app).get('/account').set('Cookie', cookie).expect(303);
    const loginPage = await agent.get(logout.headers.location as string);
    expect(loginPage.text).to.include('Vous êtes déconnecté.');
  });

  it('sets an HttpOnly, SameSite=Lax cookie, without Secure over plain http', async () => {
    const login = await logIn(supertest.agent(portal.app), 'camille', PASSWORD);
    const cookie = (login.headers['set-cookie'] as unknown as string[]).find((value) => value.startsWith('recharge.sid='));
    expect(cookie).to.match(/; HttpOnly/).and.match(/; SameSite=Lax/).and.match(/; Path=\//);
    expect(cookie).not.to.match(/Secure/);
    // The device token (login throttling) has the same attributes, and is kept 180 days.
    const device = (login.headers['set-cookie'] as unknown as string[]).find((value) => value.startsWith('recharge.device='));
    expect(device).to.match(/; HttpOnly/).and.match(/; SameSite=Lax/).and.match(/; Path=\//).and.match(/; Max-Age=15552000/);
    expect(device).not.to.match(/Secure/);
  });

  it('ends a session left idle longer than the idle timeout', async () => {
    const agent = supertest.agent(portal.app);
    await logIn(agent, 'camille', PASSWORD);
    portal.clock.advance(29 * MINUTE);
    await agent.get('/account').expect(200);
    portal.clock.advance(31 * MINUTE);
    const expired = await agent.get('/account');
    expect(expired.headers.location).to.equal('/login?notice=session-expired');
    const page = await agent.get('/login?notice=session-expired');
    expect(page.text).to.include('Votre session a expiré.');
  });

  it('ends an active session at the absolute timeout', async () => {
    const agent = supertest.agent(portal.app);
    await logIn(agent, 'camille', PASSWORD);
    for (let elapsed = 0; elapsed < 8 * 60; elapsed += 20) {
      portal.clock.advance(20 * MINUTE);
      if (elapsed + 20 <= 8 * 60) await agent.get('/account').expect(200);
    }
    portal.clock.advance(20 * MINUTE);
    const expired = await agent.get('/account');
    expect(expired.status).to.equal(303);
    expect(expired.headers.location).to.equal('/login?notice=session-expired');
  });
});

describe(`login behind an HTTPS proxy (${testDialect})`, () => {
  let portal: TestPortal;
  before(async () => {
    portal = await createTestPortal({ PUBLIC_URL: 'https://print.example.edu', TRUST_PROXY: 'true' });
    await portal.addUser('camille', PASSWORD);
  });
  after(() => portal.cleanup());

  it('sets a Secure, __Host- prefixed cookie and HSTS', async () => {
    // A cookie jar rightly keeps Secure cookies off plain http, and supertest speaks plain http to the
    // app (TLS ends at the proxy), so the cookie is carried by hand here.
    const https = { 'X-Forwarded-Proto': 'https' };
    const page = await supertest(portal.app).get('/login').set(https);
    const csrfCookie = cookiesOf(page).find((cookie) => cookie.startsWith('__Host-recharge.csrf=')) as string;
    expect(csrfCookie).to.be.a('string');
    const login = await supertest(portal.app)
      .post('/login')
      .set({ ...https, Cookie: csrfCookie })
      .type('form')
      .send({ _csrf: csrfTokenFrom(page.text), username: 'camille', password: PASSWORD });
    expect(login.status).to.equal(303);
    const cookie = (login.headers['set-cookie'] as unknown as string[]).find((value) => value.startsWith('__Host-recharge='));
    expect(cookie).to.match(/; Secure/).and.match(/; HttpOnly/).and.match(/; Path=\//).and.not.match(/Domain=/);
    const device = (login.headers['set-cookie'] as unknown as string[]).find((value) => value.startsWith('__Host-recharge-device='));
    expect(device).to.match(/; Secure/).and.match(/; HttpOnly/).and.match(/; SameSite=Lax/).and.match(/; Path=\//).and.not.match(/Domain=/);
    expect(login.headers['strict-transport-security']).to.equal('max-age=31536000; includeSubDomains');
    await supertest(portal.app).get('/account').set({ ...https, Cookie: sessionCookieOf(login) as string }).expect(200);
  });
});
