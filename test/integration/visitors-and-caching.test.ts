import { expect } from 'chai';
import supertest from 'supertest';
import { cookiesOf, createTestPortal, csrfTokenFrom, logIn, sessionCookieOf, type TestPortal } from '../helpers/portal.js';
import { testDialect } from '../helpers/database.js';

const PASSWORD = 'correct horse battery';
const storedSessions = async (portal: TestPortal) => Number((await portal.db.knex('sessions').count({ count: '*' }))[0]?.count);

describe(`visitors leave no session, personal pages are not cached (${testDialect})`, () => {
  let portal: TestPortal;
  before(async () => {
    portal = await createTestPortal();
    await portal.addUser('camille', PASSWORD, { displayName: 'Camille Martin', email: 'camille@example.edu' });
  });
  after(() => portal.cleanup());
  beforeEach(() => portal.db.knex('sessions').del());

  it('stores no session for visitors reading pages, choosing a language or failing to log in', async () => {
    for (const path of ['/login', '/login', '/terms', '/', '/topup', '/account', '/no-such-page']) await supertest(portal.app).get(path);
    const visitor = supertest.agent(portal.app);
    const page = await visitor.get('/login');
    expect(sessionCookieOf(page)).to.equal(undefined);
    await visitor.post('/language').type('form').send({ _csrf: csrfTokenFrom(page.text), locale: 'en', returnTo: '/login' }).expect(303);
    const english = await visitor.get('/login').expect(200);
    expect(english.text).to.include('<html lang="en">');
    await visitor.post('/login').type('form').send({ _csrf: csrfTokenFrom(english.text), username: 'camille', password: 'wrong' }).expect(401);
    expect(await storedSessions(portal)).to.equal(0);
  });

  it('removes the session of a person whose session timed out, and stores no empty one in its place', async () => {
    const agent = supertest.agent(portal.app);
    await logIn(agent, 'camille', PASSWORD);
    expect(await storedSessions(portal)).to.equal(1);
    portal.clock.advance(31 * 60_000);
    const expired = await agent.get('/account');
    expect(expired.headers.location).to.equal('/login?notice=session-expired');
    await agent.get('/login').expect(200);
    expect(await storedSessions(portal)).to.equal(0);
  });

  it("keeps the visitor's language at login, then stores exactly the signed-in session", async () => {
    const visitor = supertest.agent(portal.app);
    const page = await visitor.get('/login');
    await visitor.post('/language').type('form').send({ _csrf: csrfTokenFrom(page.text), locale: 'en' }).expect(303);
    await logIn(visitor, 'camille', PASSWORD).then((login) => expect(login.status).to.equal(303));
    const account = await visitor.get('/account').expect(200);
    expect(account.text).to.include('<html lang="en">');
    expect(await storedSessions(portal)).to.equal(1);
  });

  it("refuses a visitor's form without the token's cookie, or with another visitor's token", async () => {
    const page = await supertest(portal.app).get('/login');
    // A cross-site form can carry a token it scraped, but not the cookie that goes with it.
    await supertest(portal.app).post('/login').type('form').send({ _csrf: csrfTokenFrom(page.text), username: 'camille', password: PASSWORD }).expect(403);
    const other = await supertest(portal.app).get('/login');
    const login = await supertest(portal.app)
      .post('/login')
      .set('Cookie', cookiesOf(other).join('; '))
      .type('form')
      .send({ _csrf: csrfTokenFrom(page.text), username: 'camille', password: PASSWORD });
    expect(login.status).to.equal(403);
    expect(await storedSessions(portal)).to.equal(0);
  });

  it('sends Cache-Control: no-store with every page, personal or not', async () => {
    const agent = supertest.agent(portal.app);
    expect((await agent.get('/login')).headers['cache-control']).to.equal('no-store');
    await logIn(agent, 'camille', PASSWORD);
    for (const path of ['/account', '/topup', '/terms', '/no-such-page']) {
      const page = await agent.get(path);
      expect(page.headers['cache-control'], path).to.equal('no-store');
    }
    expect((await agent.get('/account')).text).to.include('camille@example.edu');
  });

  it('gives a cookie that ends with the browser, unless the person asks to stay signed in', async () => {
    const plain = await logIn(supertest.agent(portal.app), 'camille', PASSWORD);
    const plainCookie = (plain.headers['set-cookie'] as unknown as string[]).find((cookie) => cookie.startsWith('recharge.sid='));
    expect(plainCookie).to.be.a('string').and.not.match(/Expires=|Max-Age=/i);

    const agent = supertest.agent(portal.app);
    const page = await agent.get('/login');
    expect(page.text).to.include('name="remember"');
    const remembered = await agent.post('/login').type('form').send({ _csrf: csrfTokenFrom(page.text), username: 'camille', password: PASSWORD, remember: '1' }).expect(303);
    const rememberedCookie = (remembered.headers['set-cookie'] as unknown as string[]).find((cookie) => cookie.startsWith('recharge.sid='));
    const expires = Date.parse(/Expires=([^;]+)/i.exec(rememberedCookie ?? '')?.[1] ?? '');
    // The absolute timeout (8 hours by default), counted from now.
    expect(expires - Date.now()).to.be.within(8 * 3_600_000 - 60_000, 8 * 3_600_000 + 60_000);
  });
});
