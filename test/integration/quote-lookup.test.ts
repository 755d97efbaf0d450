import { Writable } from 'node:stream';
import { expect } from 'chai';
import type { Express } from 'express';
import supertest from 'supertest';
import { createApp } from '../../src/app.js';
import { recordQuotePaid } from '../../src/db/quotes/quote-repository.js';
import { createLogger } from '../../src/logger.js';
import { createGatewayFromConfig } from '../../src/payments/paypal/from-config.js';
import { expectDocumentsConsistent, expectLedgerConsistent, testDialect } from '../helpers/database.js';
import { formFields, withChanges } from '../helpers/html-form.js';
import { cookiesOf, createTestPortal, logIn, type TestPortal } from '../helpers/portal.js';
import { dayFromNow, draftQuote, sentQuote } from '../helpers/quotes.js';

type Agent = ReturnType<typeof supertest.agent>;

const HOUR_MS = 3_600_000;
const ACCESS_COOKIE = 'recharge.quotes';
/** The right postcode of the thesis quotes (helpers/quotes.ts), as printed. */
const POSTCODE = '75 005';

/** The page a look-up answers, without what differs by request and not by answer: the CSRF tokens, the CSP nonce and the two typed values. */
const answerPage = (html: string) =>
  html
    .replace(/name="_csrf" value="[^"]*"/g, 'name="_csrf" value="TOKEN"')
    .replace(/nonce="[^"]*"/g, 'nonce="NONCE"')
    .replace(/(id="number" name="number" value=")[^"]*"/, '$1NUMBER"')
    .replace(/(id="postcode" name="postcode" value=")[^"]*"/, '$1POSTCODE"');

describe(`"Recherche de commande": a quote found by its number and postcode (${testDialect})`, function () {
  this.timeout(60_000);
  let portal: TestPortal;
  let desk: Agent;
  /** Each test looks up from addresses of its own, so that one test's failures do not count in another's. */
  let addressBlock = 0;
  let address: (host: number) => string;

  const knex = () => portal.db.knex;
  /** The failures counted, whoever's. */
  const countedFailures = async () => Number(((await knex()('quote_lookup_attempts').count({ total: '*' }).first()) as { total: unknown }).total);
  const quoteId = async (number: string) => ((await knex()('quotes').where('number', number).first('id')) as { id: number }).id;

  /** One look-up through the form, as a browser at `ip` would make it (the portal trusts X-Forwarded-For). */
  async function lookUp(number: string, postcode: string, { ip, app = portal.app, language = 'fr' }: { ip: string; app?: Express; language?: string }) {
    const agent = supertest.agent(app);
    const headers = { 'X-Forwarded-For': ip, 'Accept-Language': language };
    const page = await agent.get('/quotes/lookup').set(headers).expect(200);
    const response = await agent.post('/quotes/lookup').set(headers).type('form').send(withChanges(formFields(page.text, '/quotes/lookup'), { number, postcode }));
    return Object.assign(response, { agent });
  }

  /** The same browser making many look-ups, each from another address: a form fetched once, sent again and again. */
  async function guesser(app: Express = portal.app) {
    const agent = supertest.agent(app);
    const form = formFields((await agent.get('/quotes/lookup').expect(200)).text, '/quotes/lookup');
    return (number: string, postcode: string, ip: string) => agent.post('/quotes/lookup').set('X-Forwarded-For', ip).type('form').send(withChanges(form, { number, postcode }));
  }

  const deskLogIn = async () => {
    desk = supertest.agent(portal.app);
    expect((await logIn(desk, 'accueil', 'desk-password')).status).to.equal(303);
  };

  before(async () => {
    portal = await createTestPortal({ TRUST_PROXY: 'true', SELLER_NAME: 'Université Exemple', SELLER_EMAIL: 'reprographie@univ.example' });
    await portal.addUser('accueil', 'desk-password', { displayName: 'Accueil Repro' });
    await knex()('users').where('username', 'accueil').update({ quote_desk: true });
    await deskLogIn();
  });
  beforeEach(() => {
    addressBlock += 1;
    address = (host) => `10.${addressBlock}.${Math.floor(host / 250)}.${(host % 250) + 1}`;
  });
  afterEach(async () => {
    await expectLedgerConsistent(portal.db);
    await expectDocumentsConsistent(portal.db);
  });
  after(() => portal.cleanup());

  it('finds a sent quote by its number and postcode as printed, forgiving spaces and case, and lets this browser (only) see it', async () => {
    const number = await sentQuote(portal, desk);
    const british = await sentQuote(portal, desk, { postcode: 'SW1A 1AA', locale: 'en' });
    const typings: Array<[string, string, string]> = [
      [number, number, POSTCODE],
      [number, ` ${number.toLowerCase()} `, '75005'],
      [number, number.replace('D-', 'd-'), ' 7 5 0 0 5 '],
      [british, british, 'sw1a1aa'],
      [british, `  ${british}`, 'Sw1A  1aA'],
    ];
    for (const [index, [printed, typedNumber, typedPostcode]] of typings.entries()) {
      const found = await lookUp(typedNumber, typedPostcode, { ip: address(index) });
      expect(found.status, `${typedNumber} ${typedPostcode}`).to.equal(303);
      expect(found.headers.location).to.equal(`/quotes/${printed}`);
      const cookie = (found.headers['set-cookie'] as unknown as string[]).find((line) => line.startsWith(`${ACCESS_COOKIE}=`));
      expect(cookie).to.match(/; HttpOnly/).and.to.match(/; SameSite=Lax/);
      // The browser that gave them sees the quote; another one does not.
      await found.agent.get(`/quotes/${printed}`).expect(200);
      expect((await supertest(portal.app).get(`/quotes/${printed}`)).status).not.to.equal(200);
    }
    // The right answers were forgiven: nothing is left counted against the numbers or the addresses.
    expect(await countedFailures()).to.equal(0);
  });

  it('answers a wrong number, a wrong postcode, another quote’s postcode and a draft alike, with the same queries: 404, no access', async () => {
    const number = await sentQuote(portal, desk);
    await sentQuote(portal, desk, { postcode: '69 003' });
    const draft = await draftQuote(portal, desk);
    const wrong: Array<[string, string, string]> = [
      ['wrong number', 'D-2026-999999', POSTCODE],
      ['wrong postcode', number, '75 006'],
      ['another quote’s postcode', number, '69 003'],
      ['a draft', draft, POSTCODE],
    ];
    // The first look-up of a minute purges old failures: made first, so that the ones compared do the same work.
    await lookUp('D-2026-999998', POSTCODE, { ip: address(99) });
    // The sent quotes' PDFs are drawn in the background: their queries are not the lookup's.
    await portal.documentFiles.idle();
    const queries: string[] = [];
    // The published look is checked for changes every few seconds, on whichever request comes: not the lookup's work.
    const record = (query: { sql: string }) => (query.sql.includes('branding_publications') ? undefined : queries.push(query.sql));
    const answers = [];
    for (const [index, [what, typedNumber, typedPostcode]] of wrong.entries()) {
      knex().on('query', record);
      const answer = await lookUp(typedNumber, typedPostcode, { ip: address(index) });
      knex().off('query', record);
      answers.push({ what, status: answer.status, page: answerPage(answer.text), cookies: cookiesOf(answer).map((cookie) => cookie.split('=')[0]), queries: queries.splice(0) });
    }
    for (const answer of answers) {
      expect(answer.status, answer.what).to.equal(404);
      expect(answer.cookies, answer.what).not.to.include(ACCESS_COOKIE);
      expect(answer.page, answer.what).to.equal(answers[0]!.page);
      expect(answer.queries, answer.what).to.deep.equal(answers[0]!.queries);
    }
    expect(answers[0]!.page).to.include('Aucun devis ne correspond à ce numéro et à ce code postal.');
    expect(answers[0]!.queries.some((sql) => sql.includes('quotes'))).to.equal(true);
  });

  it('says an expired or cancelled quote can no longer be paid, with whom to ask, once its postcode is right; a wrong postcode still learns nothing', async () => {
    const cancelled = await sentQuote(portal, desk);
    const cancelForm = formFields((await desk.get(`/desk/quotes/${cancelled}/cancel`).expect(200)).text, `/desk/quotes/${cancelled}/cancel`);
    await desk.post(`/desk/quotes/${cancelled}/cancel`).type('form').send(cancelForm).expect(303);
    const lastDay = dayFromNow(portal, 1);
    const late = await sentQuote(portal, desk, { validUntil: lastDay });
    const swept = await sentQuote(portal, desk, { validUntil: lastDay });
    portal.clock.advance(2 * 24 * HOUR_MS);

    const refusedCancelled = await lookUp(cancelled, POSTCODE, { ip: address(0) });
    expect(refusedCancelled.status).to.equal(200);
    expect(cookiesOf(refusedCancelled).some((cookie) => cookie.startsWith(`${ACCESS_COOKIE}=`))).to.equal(false);
    expect(refusedCancelled.text).to.include(`Devis ${cancelled} : Annulé`).and.include('ce devis a été annulé et ne peut plus être payé');
    expect(refusedCancelled.text).to.include('Répondez à l&#39;e-mail du devis ou demandez un nouveau devis').and.include('href="mailto:reprographie@univ.example"');
    // Its last day gone, a quote is expired for its customer before the sweep marks it so, and after.
    for (const [index, expired] of [late, swept].entries()) {
      if (expired === swept) expect(await portal.quoteExpiry.expireQuotes(portal.clock.now())).to.deep.equal({ expired: 2 });
      const answer = await lookUp(expired, '75005', { ip: address(index + 1) });
      expect(answer.status).to.equal(200);
      expect(answer.text).to.include(`Devis ${expired} : Expiré`).and.include('ne peut plus être payé').and.include('href="mailto:reprographie@univ.example"');
    }
    const english = await lookUp(late, POSTCODE, { ip: address(3), language: 'en' });
    expect(english.text).to.include(`Quote ${late}: Expired`).and.include('can no longer be paid').and.include('Reply to the quote&#39;s e-mail');

    const wrong = await lookUp(cancelled, '75 006', { ip: address(4) });
    expect(wrong.status).to.equal(404);
    expect(wrong.text).not.to.include('Annulé');
    await deskLogIn();
  });

  it('leads to a paid quote’s page, where it shows as paid', async () => {
    const number = await sentQuote(portal, desk);
    // Paid from units, as a person of the portal pays: here the adjustments' account stands in for the person's.
    const accountId = async (code: string) => ((await knex()('accounts').where('code', code).first('id')) as { id: number }).id;
    const paid = await portal.ledger.post({
      idempotencyKey: `test:paid:${number}`,
      kind: 'quote_payment',
      lines: [
        { accountId: await accountId('system:adjustments'), amount: -4749 },
        { accountId: await accountId('system:quote-payments'), amount: 4749 },
      ],
    });
    const id = await quoteId(number);
    await portal.db.transaction((trx) => recordQuotePaid(trx, id, 'sent', { ledgerTransactionId: paid.transactionId }, portal.clock.now()));

    const found = await lookUp(number, POSTCODE, { ip: address(0) });
    expect(found.status).to.equal(303);
    expect(found.headers.location).to.equal(`/quotes/${number}`);
    const page = await found.agent.get(`/quotes/${number}`).expect(200);
    expect(page.text).to.include('Payée');
  });

  it('stops 1,000 guesses of one number’s postcode from rotating addresses after five, then refuses the right postcode too until the hour has passed', async () => {
    const number = await sentQuote(portal, desk);
    const guess = await guesser();
    const statuses: number[] = [];
    for (let host = 0; host < 1000; host += 1) {
      const postcode = String(host * 97).padStart(5, '0');
      if (postcode === '75005') continue;
      statuses.push((await guess(number, postcode, address(host))).status);
    }
    expect(statuses.slice(0, 5)).to.deep.equal([404, 404, 404, 404, 404]);
    expect(statuses.slice(5).every((status) => status === 429)).to.equal(true);

    const refused = await lookUp(number, POSTCODE, { ip: address(1000) });
    expect(refused.status).to.equal(429);
    expect(Number(refused.headers['retry-after'])).to.be.within(HOUR_MS / 1000 - 60, HOUR_MS / 1000);
    expect(refused.text).to.include('Trop de recherches sans résultat pour ce numéro ou depuis votre connexion');
    expect(cookiesOf(refused).some((cookie) => cookie.startsWith(`${ACCESS_COOKIE}=`))).to.equal(false);

    portal.clock.advance(Number(refused.headers['retry-after']) * 1000);
    expect((await lookUp(number, POSTCODE, { ip: address(1001) })).status).to.equal(303);
    // Five more failures in the day: the number now waits for the day's first failure to be a day old.
    for (let host = 0; host < 5; host += 1) expect((await guess(number, `1000${host}`, address(2000 + host))).status).to.equal(404);
    portal.clock.advance(HOUR_MS);
    const daily = await lookUp(number, POSTCODE, { ip: address(3000) });
    expect(daily.status).to.equal(429);
    expect(Number(daily.headers['retry-after'])).to.be.within(21 * 3600, 23 * 3600);
    await deskLogIn();
  });

  it('limits a number nobody has exactly as one that exists, so that the limit tells nothing either', async () => {
    const number = await sentQuote(portal, desk);
    const guess = await guesser();
    const answers = [];
    for (const tried of [number, 'D-2026-888888']) {
      const statuses = [];
      for (let host = 0; host < 6; host += 1) statuses.push(await guess(tried, `0000${host}`, address(tried === number ? host : 100 + host)));
      expect(statuses.map((answer) => answer.status)).to.deep.equal([404, 404, 404, 404, 404, 429]);
      answers.push(statuses.at(-1)!);
    }
    expect(answerPage(answers[1]!.text)).to.equal(answerPage(answers[0]!.text));
    expect(answers[1]!.headers['retry-after']).to.equal(answers[0]!.headers['retry-after']);
  });

  it('counts parallel guesses before checking them: twenty at once on one number, five are checked', async () => {
    const number = await sentQuote(portal, desk);
    const guess = await guesser();
    const answers = await Promise.all(Array.from({ length: 20 }, (_, host) => guess(number, `1${String(host).padStart(4, '0')}`, address(host))));
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).to.deep.equal([...Array<number>(5).fill(404), ...Array<number>(15).fill(429)]);
  });

  it('limits one address to twenty failures an hour, whatever the numbers it tries; other addresses go on', async () => {
    const number = await sentQuote(portal, desk);
    const guess = await guesser();
    const here = address(0);
    for (let tried = 0; tried < 20; tried += 1) expect((await guess(`D-2026-7000${String(tried).padStart(2, '0')}`, POSTCODE, here)).status).to.equal(404);
    const refused = await guess(number, POSTCODE, here);
    expect(refused.status).to.equal(429);
    expect(Number(refused.headers['retry-after'])).to.be.within(HOUR_MS / 1000 - 60, HOUR_MS / 1000);
    // An IPv6 address counts by its /64: another address of the same network is the same source.
    const network = await guesser();
    for (let tried = 0; tried < 20; tried += 1) await network(`D-2026-7100${String(tried).padStart(2, '0')}`, POSTCODE, `2001:db8:${addressBlock}:1::${tried + 1}`);
    expect((await network(number, POSTCODE, `2001:db8:${addressBlock}:1::ffff`)).status).to.equal(429);
    expect((await lookUp(number, POSTCODE, { ip: address(1) })).status).to.equal(303);
  });

  it('holds the limits across two instances of the portal on the same database', async () => {
    const number = await sentQuote(portal, desk);
    const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
    const { app: secondApp } = createApp({ config: portal.config, db: portal.db, logger: createLogger(portal.config, silent), gateway: createGatewayFromConfig(portal.config.payments), clock: portal.clock, hasher: portal.hasher, identity: portal.identity });
    const [first, second] = [await guesser(), await guesser(secondApp)];
    for (let host = 0; host < 5; host += 1) expect((await (host % 2 === 0 ? first : second)(number, `2000${host}`, address(host))).status).to.equal(404);
    expect((await first(number, POSTCODE, address(10))).status).to.equal(429);
    expect((await second(number, POSTCODE, address(11))).status).to.equal(429);
    // A right answer on one instance grants a browser what the other one then shows.
    const other = await sentQuote(portal, desk);
    const found = await lookUp(other, POSTCODE, { ip: address(12), app: secondApp });
    expect(found.status).to.equal(303);
    const cookie = cookiesOf(found).find((line) => line.startsWith(`${ACCESS_COOKIE}=`))!;
    await supertest(portal.app).get(`/quotes/${other}`).set('Cookie', cookie).expect(200);
  });

  it('deletes failures once no limit looks at them any more', async () => {
    await lookUp('D-2026-555555', POSTCODE, { ip: address(0) });
    expect(await countedFailures()).to.be.greaterThan(0);
    portal.clock.advance(24 * HOUR_MS + 60_000);
    await lookUp('D-2026-555556', POSTCODE, { ip: address(1) });
    // Only the last failure is left: its number's and its address's.
    expect(await countedFailures()).to.equal(2);
    await deskLogIn();
  });

  it('asks for what is missing or is no quote number, in the visitor’s language, counting nothing', async () => {
    const before = await countedFailures();
    const empty = await lookUp('', '', { ip: address(0) });
    expect(empty.status).to.equal(400);
    expect(empty.text).to.include('Saisissez le numéro de devis.').and.include('Saisissez le code postal de livraison.');
    expect(empty.text).to.match(/id="number" name="number" value="" autocomplete="off" maxlength="40" aria-describedby="lookup-intro number-error" aria-invalid="true"/);
    const malformed = await lookUp('D 2026 000123', '75005', { ip: address(1), language: 'en' });
    expect(malformed.status).to.equal(400);
    expect(malformed.text).to.include('This is not a quote number: it is written like D-2026-000123.').and.include('value="D 2026 000123"');
    const tooLong = await lookUp('D-2026-000123', '12345678901234567', { ip: address(2) });
    expect(tooLong.status).to.equal(400);
    expect(tooLong.text).to.include('Un code postal de livraison compte au plus 16 caractères');
    expect(await countedFailures()).to.equal(before);
  });

  it('fills in the number of the "Payer maintenant" link, and nothing else, in French and in English', async () => {
    const french = await supertest(portal.app).get('/quotes/lookup?number=d-2026-000123').expect(200);
    expect(french.headers['cache-control']).to.equal('no-store');
    expect(french.text).to.include('<title>Recherche de commande').and.include('value="D-2026-000123"').and.include('Rechercher la commande');
    expect(french.text).to.include('id="postcode" name="postcode" value="" autocomplete="postal-code"');
    const english = await supertest(portal.app).get('/quotes/lookup?number=%3Cscript%3E').set('Accept-Language', 'en').expect(200);
    expect(english.text).to.include('<title>Find your order').and.include('Find my order').and.include('id="number" name="number" value=""');

    const notFound = await lookUp('D-2026-999999', POSTCODE, { ip: address(0), language: 'en' });
    expect(notFound.text).to.include('No quote matches this number and postcode.');
    const guess = await guesser();
    for (let host = 1; host <= 5; host += 1) await guess('D-2026-999997', POSTCODE, address(host));
    const throttled = await lookUp('D-2026-999997', POSTCODE, { ip: address(6), language: 'en' });
    expect(throttled.status).to.equal(429);
    expect(throttled.text).to.include('Too many searches without a result for this number or from your connection');
  });
});
