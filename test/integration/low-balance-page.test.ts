import { expect } from 'chai';
import supertest from 'supertest';
import { getAccountByCode } from '../../src/db/ledger/ledger-repository.js';
import { SystemAccount } from '../../src/domain/ledger/ledger.js';
import { expectLedgerConsistent, testDialect } from '../helpers/database.js';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';
import { sentQuote } from '../helpers/quotes.js';
import { publishOffers } from '../helpers/topup.js';

type Agent = ReturnType<typeof supertest.agent>;

const PATH = '/account/low-balance-alert';
const PASSWORD = 'a good long password';
/** The page's text as a reader sees it: EJS escapes apostrophes; French amounts carry narrow no-break spaces. */
const readable = (html: string) => html.replace(/&#39;/g, "'").replace(/[\u00a0\u202f]/g, ' ');

describe(`the low-balance alert's page (${testDialect})`, function () {
  this.timeout(30_000);
  let portal: TestPortal;
  let person: Agent;
  let accountId: number;

  const threshold = async () => {
    const row = await portal.db.knex('low_balance_alerts').where('account_id', accountId).first('threshold');
    return row ? Number(row.threshold) : null;
  };
  const submit = async (agent: Agent, fields: Record<string, string>, path = PATH, language = 'fr') =>
    agent.post(path).set('Accept-Language', language).type('form').send({ _csrf: csrfTokenFrom((await agent.get(PATH).expect(200)).text), ...fields });

  beforeEach(async () => {
    portal = await createTestPortal({ SELLER_NAME: 'Université Exemple', SELLER_EMAIL: 'reprographie@univ.example' });
    const user = await portal.addUser('camille', PASSWORD);
    accountId = (await portal.ledger.userAccount(user.id)).id;
    const topUps = await getAccountByCode(portal.db.knex, SystemAccount.topUps);
    await portal.ledger.post({ idempotencyKey: 'test-opening', kind: 'top_up', lines: [{ accountId, amount: 1250 }, { accountId: topUps.id, amount: -1250 }] });
    person = supertest.agent(portal.app);
    expect((await logIn(person, 'camille', PASSWORD)).status).to.equal(303);
  });
  afterEach(async () => {
    await expectLedgerConsistent(portal.db);
    await portal.cleanup();
  });

  it('is for signed-in people only, never cached, and shows the balance with the alert off', async () => {
    const visitor = await supertest(portal.app).get(PATH);
    expect(visitor.status).to.equal(303);
    expect(visitor.headers.location).to.match(/^\/login/);
    const page = await person.get(PATH).set('Accept-Language', 'fr').expect(200);
    expect(page.headers['cache-control']).to.include('no-store');
    expect(readable(page.text)).to.include('Alerte de solde bas').and.include('12,50 unités').and.include('Alerte désactivée').and.include('Activer l\'alerte');
    expect(readable(page.text)).not.to.include('Désactiver l\'alerte');
  });

  it('saves a threshold typed as units are shown, in either language, and shows it', async () => {
    for (const [typed, saved, language] of [
      ['2,50', 250, 'fr'],
      [' 5 ', 500, 'fr'],
      ['1\u202f000,00', 100_000, 'fr'],
      ['2.5', 250, 'en'],
      ['1,000.25', 100_025, 'en'],
      ['10000', 1_000_000, 'en'],
      ['0,01', 1, 'fr'],
    ] as const) {
      const response = await submit(person, { threshold: typed }, PATH, language);
      expect([response.status, response.headers.location], typed).to.deep.equal([303, `${PATH}?notice=saved`]);
      expect(await threshold(), typed).to.equal(saved);
    }
    const page = readable((await person.get(`${PATH}?notice=saved`).set('Accept-Language', 'en').expect(200)).text);
    expect(page).to.include('Alert saved.').and.include('0.01 units').and.include('value="0.01"').and.include('Turn the alert off');
  });

  it('refuses what is not a threshold with a clear 400 in the reader\'s language, and keeps the one saved', async () => {
    expect((await submit(person, { threshold: '3' })).status).to.equal(303);
    for (const [typed, french, english] of [
      ['', 'Indiquez un nombre d\'unités', 'Enter a number of units'],
      ['abc', 'Indiquez un nombre d\'unités', 'Enter a number of units'],
      ['-2', 'Indiquez un nombre d\'unités', 'Enter a number of units'],
      ['2,505', 'Indiquez un nombre d\'unités', 'Enter a number of units'],
      ['1,234', 'Indiquez un nombre d\'unités', 'Enter a number of units'],
      ['5 €', 'Indiquez un nombre d\'unités', 'Enter a number of units'],
      ['0', 'Le seuil doit être compris entre 0,01 et 10 000,00 unités.', 'The threshold must be between 0.01 and 10,000.00 units.'],
      ['10 000,01', 'Le seuil doit être compris entre 0,01 et 10 000,00 unités.', 'The threshold must be between 0.01 and 10,000.00 units.'],
    ] as const) {
      const inFrench = await submit(person, { threshold: typed });
      expect(inFrench.status, typed).to.equal(400);
      expect(readable(inFrench.text), typed).to.include(french).and.include('Rien n\'a été enregistré').and.include('aria-invalid="true"');
      const inEnglish = await submit(person, { threshold: typed }, PATH, 'en');
      expect(inEnglish.status, typed).to.equal(400);
      expect(readable(inEnglish.text), typed).to.include(english);
      expect(await threshold(), typed).to.equal(300);
    }
    const long = await submit(person, { threshold: '9'.repeat(5000) });
    expect(long.status).to.equal(400);
    expect(long.text).not.to.include('9'.repeat(41));
  });

  it('turns the alert off, and says so when it already was', async () => {
    expect((await submit(person, { threshold: '3' })).status).to.equal(303);
    const off = await submit(person, {}, `${PATH}/off`);
    expect([off.status, off.headers.location]).to.deep.equal([303, `${PATH}?notice=turnedOff`]);
    expect(await threshold()).to.equal(null);
    const again = await submit(person, {}, `${PATH}/off`);
    expect(again.headers.location).to.equal(`${PATH}?notice=alreadyOff`);
    expect(readable((await person.get(again.headers.location as string).expect(200)).text)).to.include('L\'alerte était déjà désactivée.');
  });

  it('says when the balance is already below the threshold, with the link to top up', async () => {
    expect((await submit(person, { threshold: '20' })).status).to.equal(303);
    const page = readable((await person.get(PATH).set('Accept-Language', 'fr').expect(200)).text);
    expect(page).to.include('Votre solde est déjà sous ce seuil').and.include('href="/topup"').and.include('20,00 unités');
  });

  it('queues the alert when the person pays a quote with units across the threshold, once', async () => {
    expect((await submit(person, { threshold: '5' })).status).to.equal(303);
    const termsId = await publishOffers(portal);
    await portal.addUser('accueil', PASSWORD);
    await portal.db.knex('users').where('username', 'accueil').update({ quote_desk: true });
    const desk = supertest.agent(portal.app);
    expect((await logIn(desk, 'accueil', PASSWORD)).status).to.equal(303);
    const number = await sentQuote(portal, desk, { username: 'camille', unitsPrice: '10,00' });
    const pay = async () => person.post(`/quotes/${number}/pay-with-units`).type('form').send({ _csrf: csrfTokenFrom((await person.get('/account').expect(200)).text), termsId: String(termsId), acceptTerms: 'on' });
    expect((await pay()).status).to.equal(303);
    expect((await pay()).status).to.equal(303);
    const queued = await portal.db.knex('mail_outbox').where('notice_kind', 'low_balance.crossed').select('send_key', 'notice_params');
    expect(queued).to.have.length(1);
    expect(JSON.parse(String(queued[0].notice_params))).to.deep.equal({ balance: 250, threshold: 500 });
  });

  it('refuses a form without its CSRF token (403), and changes nothing', async () => {
    expect((await submit(person, { threshold: '3' })).status).to.equal(303);
    expect((await person.post(PATH).type('form').send({ threshold: '7' })).status).to.equal(403);
    expect((await person.post(`${PATH}/off`).type('form').send({})).status).to.equal(403);
    expect(await threshold()).to.equal(300);
  });

  it('limits changes per person: 429 past twenty in a quarter of an hour, nothing saved', async () => {
    const token = csrfTokenFrom((await person.get(PATH).expect(200)).text);
    for (let change = 1; change <= 20; change += 1) {
      expect((await person.post(PATH).type('form').send({ _csrf: token, threshold: String(change) })).status).to.equal(303);
    }
    const limited = await person.post(PATH).type('form').send({ _csrf: token, threshold: '99' });
    expect(limited.status).to.equal(429);
    expect(Number(limited.headers['retry-after'])).to.be.greaterThan(0);
    expect(await threshold()).to.equal(2000);
    portal.clock.advance(15 * 60_000);
    expect((await person.post(PATH).type('form').send({ _csrf: token, threshold: '99' })).status).to.equal(303);
  });
});
