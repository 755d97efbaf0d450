import { expect } from 'chai';
import supertest from 'supertest';
import { getAccountByCode } from '../../src/db/ledger-repository.js';
import { SystemAccount } from '../../src/domain/ledger.js';
import type { User } from '../../src/domain/users.js';
import { expectLedgerConsistent, testDialect } from '../helpers/database.js';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';

const PASSWORD = 'a good long password';

describe(`account page (${testDialect})`, () => {
  let portal: TestPortal;
  let camille: User;
  let key = 0;

  const post = async (user: User, amount: number, counterpartCode: string, kind: 'top_up' | 'usage') => {
    const account = await portal.ledger.userAccount(user.id);
    const counterpart = await getAccountByCode(portal.db.knex, counterpartCode);
    await portal.ledger.post({ idempotencyKey: `test:${(key += 1)}`, kind, lines: [{ accountId: account.id, amount }, { accountId: counterpart.id, amount: -amount }] });
  };
  const rowsOf = (html: string) => [...html.matchAll(/<tr>\s*<td><time[^>]*>[^<]*<\/time><\/td>\s*<td>([^<]*)<\/td>\s*<td class="number [a-z]+">([^<]*)<\/td>/g)].map((match) => [match[1], match[2]]);

  before(async () => {
    portal = await createTestPortal();
    camille = await portal.addUser('camille', PASSWORD, { displayName: 'Camille Martin', email: 'camille.martin@example.edu' });
    await post(camille, 5000, SystemAccount.topUps, 'top_up');
    await post(camille, -40, SystemAccount.usage('scan'), 'usage');
  });
  afterEach(() => expectLedgerConsistent(portal.db));
  after(() => portal.cleanup());

  it('sends visitors who are not logged in to the login page', async () => {
    for (const path of ['/account', '/']) {
      const response = await supertest(portal.app).get(path);
      expect(response.status).to.equal(303);
      expect(response.headers.location).to.equal('/login');
    }
  });

  it('shows the username, name, e-mail, balance in units and a top-up link, in French', async () => {
    const agent = supertest.agent(portal.app);
    await logIn(agent, 'camille', PASSWORD);
    const page = await agent.get('/account').expect(200);
    expect(page.text).to.include('Compte &amp; Crédit').and.include('<dd>camille</dd>').and.include('<dd>Camille Martin</dd>');
    expect(page.text).to.include('<dd>camille.martin@example.edu</dd>');
    expect(page.text).to.include('49,60 unités').and.include('href="/topup">Recharger mon compte</a>');
    expect(rowsOf(page.text)).to.deep.equal([
      ['Scan', '−0,40'],
      ['Rechargement', '+50,00'],
    ]);
    expect((await agent.get('/')).headers.location).to.equal('/account');
  });

  it('shows the same page in English', async () => {
    const agent = supertest.agent(portal.app);
    await logIn(agent, 'camille', PASSWORD);
    const page = await agent.get('/account').set('Accept-Language', 'en').expect(200);
    expect(page.text).to.include('Account &amp; Credit').and.include('49.60 units').and.include('Top up my account');
    expect(rowsOf(page.text)).to.deep.equal([
      ['Scan', '−0.40'],
      ['Top-up', '+50.00'],
    ]);
  });

  it('pages a long history 20 operations at a time, newest first', async () => {
    const busy = await portal.addUser('busy', PASSWORD);
    await post(busy, 10_000, SystemAccount.topUps, 'top_up');
    for (let index = 1; index <= 44; index += 1) await post(busy, -index, SystemAccount.usage('print'), 'usage');
    const agent = supertest.agent(portal.app);
    await logIn(agent, 'busy', PASSWORD);

    const first = await agent.get('/account').expect(200);
    expect(rowsOf(first.text)).to.have.length(20);
    expect(rowsOf(first.text)[0]).to.deep.equal(['Impression', '−0,44']);
    expect(first.text).to.include('Page 1 sur 3').and.include('href="/account?page=2" rel="next"');

    const last = await agent.get('/account?page=3').expect(200);
    expect(rowsOf(last.text).map((row) => row[1])).to.deep.equal(['−0,04', '−0,03', '−0,02', '−0,01', '+100,00']);
    expect(last.text).to.include('href="/account?page=2" rel="prev"').and.not.include('rel="next"');

    expect((await agent.get('/account?page=99').expect(200)).text).to.include('Page 3 sur 3');
    for (const bad of ['0', 'abc', '-1', '1.5', '9999999']) await agent.get(`/account?page=${bad}`).expect(400);
  });

  it("never shows another person's operations", async () => {
    const other = await portal.addUser('other', PASSWORD);
    await post(other, 777, SystemAccount.topUps, 'top_up');
    const agent = supertest.agent(portal.app);
    await logIn(agent, 'camille', PASSWORD);
    const page = await agent.get('/account');
    expect(page.text).not.to.include('7,77');
    expect(rowsOf(page.text)).to.have.length(2);
  });
});

describe(`choosing the language (${testDialect})`, () => {
  let portal: TestPortal;
  before(async () => {
    portal = await createTestPortal();
    await portal.addUser('lea', PASSWORD);
  });
  after(() => portal.cleanup());

  const choose = async (agent: ReturnType<typeof supertest.agent>, locale: string, returnTo: string) => {
    const page = await agent.get('/login').redirects(1);
    return agent.post('/language').type('form').send({ _csrf: csrfTokenFrom(page.text), locale, returnTo });
  };

  it('switches the language, remembers it for the person, and it outranks Accept-Language', async () => {
    const agent = supertest.agent(portal.app);
    await logIn(agent, 'lea', PASSWORD);
    const switched = await choose(agent, 'en', '/account?page=1');
    expect(switched.status).to.equal(303);
    expect(switched.headers.location).to.equal('/account?page=1');
    expect((await agent.get('/account').set('Accept-Language', 'fr')).text).to.include('<html lang="en">');
    expect((await portal.users.findUser('lea'))?.locale).to.equal('en');

    const elsewhere = supertest.agent(portal.app);
    await logIn(elsewhere, 'lea', PASSWORD, { 'Accept-Language': 'fr' });
    expect((await elsewhere.get('/account').set('Accept-Language', 'fr')).text).to.include('Account &amp; Credit');
  });

  it('keeps a choice made before logging in', async () => {
    const agent = supertest.agent(portal.app);
    await choose(agent, 'en', '/login');
    expect((await agent.get('/login')).text).to.include('<html lang="en">');
    await portal.addUser('newcomer', PASSWORD);
    await logIn(agent, 'newcomer', PASSWORD);
    expect((await agent.get('/account')).text).to.include('Account &amp; Credit');
  });

  it('refuses an unknown language and never redirects off the site', async () => {
    const agent = supertest.agent(portal.app);
    expect((await choose(agent, 'de', '/login')).status).to.equal(400);
    for (const target of ['//evil.example/x', 'https://evil.example', '/\\evil.example', 'javascript:alert(1)']) {
      const response = await choose(agent, 'fr', target);
      expect(response.headers.location, target).to.equal('/');
    }
  });
});
