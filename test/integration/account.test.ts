import { expect } from 'chai';
import supertest from 'supertest';
import { getAccountByCode, postTransaction, reverseTransaction } from '../../src/db/ledger/ledger-repository.js';
import type { UsageDebit } from '../../src/db/print-api/usage-repository.js';
import { createApiKeyManagement } from '../../src/services/print-api/api-key-management.js';
import { SystemAccount, type UsageCategory } from '../../src/domain/ledger/ledger.js';
import { recordUsage } from '../../src/services/print-api/usage-debits.js';
import type { User } from '../../src/domain/people/users.js';
import { expectLedgerConsistent, testDialect } from '../helpers/database.js';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';

const PASSWORD = 'a good long password';

/** The account page's recent activity: [operation, what it was in words, amount]. */
const recentLinesOf = (html: string) =>
  [
    ...html.matchAll(
      /<li>\s*<span class="recent-activity__what">([^<]*?)\s*(?:<span class="muted">· ([^<]*)<\/span>)?<\/span>\s*<span class="recent-activity__amount [a-z]+">([^<]*)<\/span>/g,
    ),
  ].map((match) => [match[1], match[2] ?? '', match[3]]);

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
  /** The account page's recent activity: [operation, amount]. */
  const recentOf = (html: string) => recentLinesOf(html).map(([label, , amount]) => [label, amount]);

  before(async () => {
    portal = await createTestPortal();
    camille = await portal.addUser('camille', PASSWORD, { displayName: 'Camille Martin', email: 'camille.martin@example.edu' });
    await post(camille, 5000, SystemAccount.topUps, 'top_up');
    await post(camille, -40, SystemAccount.usage('scan'), 'usage');
  });
  afterEach(() => expectLedgerConsistent(portal.db));
  after(() => portal.cleanup());

  it('sends visitors who are not logged in to the login page', async () => {
    for (const path of ['/account', '/', '/account/history']) {
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
    expect(recentOf(page.text)).to.deep.equal([
      ['Scan', '−0,40'],
      ['Rechargement', '+50,00'],
    ]);
    expect(rowsOf((await agent.get('/account/history').expect(200)).text)).to.deep.equal([
      ['Scan', '−0,40'],
      ['Rechargement', '+50,00'],
    ]);
    expect((await agent.get('/')).headers.location).to.equal('/account');
  });

  it('puts the balance and the top-up button first, then recent activity, usage and the link to the full history; who the person is comes last', async () => {
    const agent = supertest.agent(portal.app);
    await logIn(agent, 'camille', PASSWORD);
    const page = (await agent.get('/account').expect(200)).text;
    const at = (text: string) => {
      expect(page, text).to.include(text);
      return page.indexOf(text);
    };
    const order = [
      at('data-balance="4960"'),
      at('href="/topup"'),
      at('Activité récente'),
      at('href="/account/history">Tout l&#39;historique</a>'),
      at('Utilisation par catégorie'),
      at('<dd>camille</dd>'),
      at('href="/account/settings">Gérer mon profil et mes connexions</a>'),
    ];
    expect(order).to.deep.equal([...order].sort((a, b) => a - b));
    expect(page).to.match(/<section class="card account-summary account-summary--hero"/);
    // The filter and the whole history are on their own page.
    expect(page).not.to.include('name="period"').and.not.to.include('<table class="history">');
  });

  it('shows the same page in English', async () => {
    const agent = supertest.agent(portal.app);
    await logIn(agent, 'camille', PASSWORD);
    const page = await agent.get('/account').set('Accept-Language', 'en').expect(200);
    expect(page.text).to.include('Account &amp; Credit').and.include('49.60 units').and.include('Top up my account');
    expect(page.text).to.include('Recent activity').and.include('href="/account/history">Full history</a>').and.include('Your details');
    expect(recentOf(page.text)).to.deep.equal([
      ['Scan', '−0.40'],
      ['Top-up', '+50.00'],
    ]);
    const history = await agent.get('/account/history').set('Accept-Language', 'en').expect(200);
    expect(history.text).to.include('Account history');
    expect(rowsOf(history.text)).to.deep.equal([
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

    // The account page shows the newest few, no pages: the rest is on the history page.
    const overview = await agent.get('/account').expect(200);
    expect(recentOf(overview.text).map((row) => row[1])).to.deep.equal(['−0,44', '−0,43', '−0,42', '−0,41', '−0,40', '−0,39']);
    expect(overview.text).not.to.include('rel="next"');

    const first = await agent.get('/account/history').expect(200);
    expect(rowsOf(first.text)).to.have.length(20);
    expect(rowsOf(first.text)[0]).to.deep.equal(['Impression', '−0,44']);
    expect(first.text).to.include('Page 1 sur 3').and.include('href="/account/history?page=2" rel="next"');

    const last = await agent.get('/account/history?page=3').expect(200);
    expect(rowsOf(last.text).map((row) => row[1])).to.deep.equal(['−0,04', '−0,03', '−0,02', '−0,01', '+100,00']);
    expect(last.text).to.include('href="/account/history?page=2" rel="prev"').and.not.include('rel="next"');

    expect((await agent.get('/account/history?page=99').expect(200)).text).to.include('Page 3 sur 3');
    for (const bad of ['0', 'abc', '-1', '1.5', '9999999']) await agent.get(`/account/history?page=${bad}`).expect(400);

    // Filtered, the pages keep the filter: 44 print jobs, the top-up left out.
    const today = '2026-11-23';
    const printed = await agent.get(`/account/history?category=print&from=${today}&to=${today}&page=2`).expect(200);
    expect(printed.text).to.include('Page 2 sur 3');
    expect(printed.text).to.include(`href="/account/history?period=custom&amp;category=print&amp;from=${today}&amp;to=${today}&amp;page=1" rel="prev"`);
    expect(printed.text).to.include(`href="/account/history?period=custom&amp;category=print&amp;from=${today}&amp;to=${today}&amp;page=3" rel="next"`);
    const lastPrinted = await agent.get(`/account/history?category=print&from=${today}&to=${today}&page=3`).expect(200);
    expect(rowsOf(lastPrinted.text).map((row) => row[1])).to.deep.equal(['−0,04', '−0,03', '−0,02', '−0,01']);
    expect((await agent.get('/account/history?category=top_up').expect(200)).text).not.to.include('rel="next"');
    // A named period is kept by its name, the days typed beside it left out.
    const thisMonth = await agent.get('/account/history?period=this_month&from=2026-01-01&to=&page=1').expect(200);
    expect(thisMonth.text).to.include('href="/account/history?period=this_month&amp;page=2" rel="next"');
  });

  it('sends the account page\'s old links with a filter or a page to the history page, with the same query, for good', async () => {
    const agent = supertest.agent(portal.app);
    await logIn(agent, 'camille', PASSWORD);
    for (const query of ['page=2', 'category=scan&from=2026-11-23&to=2026-11-23&page=1', 'from=2026-10-01', 'category=top_up', 'period=this_month']) {
      const old = await agent.get(`/account?${query}`);
      expect(old.status, query).to.equal(301);
      expect(old.headers.location, query).to.equal(`/account/history?${query}`);
      expect(rowsOf((await agent.get(old.headers.location as string).expect(200)).text), query).to.have.length.above(0);
    }
    // A parameter the history does not know leaves the account page where it is.
    await agent.get('/account?from_newsletter=1').expect(200);
  });

  it("never shows another person's operations", async () => {
    const other = await portal.addUser('other', PASSWORD);
    await post(other, 777, SystemAccount.topUps, 'top_up');
    const agent = supertest.agent(portal.app);
    await logIn(agent, 'camille', PASSWORD);
    const page = await agent.get('/account');
    expect(page.text).not.to.include('7,77');
    expect(recentOf(page.text)).to.have.length(2);
    const history = await agent.get('/account/history');
    expect(history.text).not.to.include('7,77');
    expect(rowsOf(history.text)).to.have.length(2);
  });
});

describe(`usage by category and the history filter (${testDialect})`, () => {
  let portal: TestPortal;
  let apiKeyId: number;
  let job = 0;
  const debits = new Map<number, UsageDebit>();

  const topUp = async (user: User, amount: number, at: string) => {
    const account = await portal.ledger.userAccount(user.id);
    await portal.db.transaction(async (trx) => {
      const topUps = await getAccountByCode(trx, SystemAccount.topUps);
      await postTransaction(trx, { idempotencyKey: `top-up:${at}:${user.id}`, kind: 'top_up', lines: [{ accountId: account.id, amount }, { accountId: topUps.id, amount: -amount }] }, new Date(at));
    });
  };
  /** A job the print server debited: reference `job-<n>`, n counted from 1 in this suite. */
  const use = async (user: User, category: UsageCategory, amount: number, pages: number | null, at: string) => {
    const account = await portal.ledger.userAccount(user.id);
    job += 1;
    const number = job;
    const request = { apiKeyId, accountId: account.id, category, amount, pages, reference: `job-${number}`, ledgerKey: `test:job:${number}` };
    debits.set(number, await portal.db.transaction((trx) => recordUsage(trx, request, new Date(at))));
  };
  const cancel = (number: number, at: string) =>
    portal.db.transaction((trx) => reverseTransaction(trx, { transactionId: debits.get(number)!.transactionId, idempotencyKey: `test:cancel:${number}` }, new Date(at)));

  /** The summary table: [category, units, share], spaces inside numbers made plain. */
  const usageOf = (html: string) =>
    [...html.matchAll(/<tr data-category="[a-z]+">\s*<th scope="row">([^<]*)<\/th>\s*<td class="number">([^<]*)<\/td>\s*<td class="number">([^<]*)<\/td>/g)].map((match) =>
      match.slice(1, 4).map((text) => text.replace(/[\u00a0\u202f]/g, ' ').replace('&lt;', '<')),
    );
  const totalOf = (html: string) => /data-total="(\d+)"/.exec(html)?.[1];
  /** The history: [operation, details, amount]. */
  const historyOf = (html: string) =>
    [...html.matchAll(/<tr>\s*<td><time[^>]*>[^<]*<\/time><\/td>\s*<td>([^<]*?)\s*(?:<span class="muted history__details">([^<]*)<\/span>)?<\/td>\s*<td class="number [a-z]+">([^<]*)<\/td>/g)].map((match) => [
      match[1],
      match[2] ?? '',
      match[3],
    ]);

  let lou: User;
  let agent: ReturnType<typeof supertest.agent>;

  before(async () => {
    portal = await createTestPortal();
    apiKeyId = (await createApiKeyManagement({ db: portal.db, clock: portal.clock }).create({ name: 'Test printers', actor: null })).id;
    lou = await portal.addUser('lou', PASSWORD);
    await topUp(lou, 5000, '2026-09-01T08:00:00Z');
    await use(lou, 'print', 300, 30, '2026-09-10T09:00:00Z'); // job-1
    await use(lou, 'print', 120, 12, '2026-09-11T09:00:00Z'); // job-2, cancelled in October
    // 00:30 on 1 October in Paris (UTC+2), 00:30 on 1 November in Paris (UTC+1): days are the portal's.
    await use(lou, 'copy', 50, 10, '2026-09-30T22:30:00Z'); // job-3
    await use(lou, 'scan', 25, null, '2026-10-06T09:00:00Z'); // job-4
    await cancel(2, '2026-10-07T09:00:00Z');
    await use(lou, 'fax', 15, 1, '2026-10-31T23:30:00Z'); // job-5
    agent = supertest.agent(portal.app);
    await logIn(agent, 'lou', PASSWORD);
  });
  afterEach(() => expectLedgerConsistent(portal.db));
  after(() => portal.cleanup());

  it('shows the units used per category and their shares, cancelled jobs left out, with a chart', async () => {
    const page = await agent.get('/account/history').expect(200);
    expect(page.text).to.include('Utilisation par catégorie').and.include("Depuis l&#39;ouverture du compte");
    expect(usageOf(page.text)).to.deep.equal([
      ['Impression', '3,00', '77 %'],
      ['Copie', '0,50', '13 %'],
      ['Scan', '0,25', '6 %'],
      ['Fax', '0,15', '4 %'],
    ]);
    expect(totalOf(page.text)).to.equal('390');
    expect(page.text).to.match(/<svg [^>]*class="chart chart--share"[^>]*role="img"/);
    expect(page.text).to.include('<rect class="chart__bar" x="0" y="22" width="231"');
    expect(/<desc id="usage-chart-desc">([^<]*)<\/desc>/.exec(page.text)?.[1]?.replace(/[\u00a0\u202f]/g, ' ')).to.equal(
      'Depuis l&#39;ouverture du compte, 3,90 unités utilisées : Impression 77 %, Copie 13 %, Scan 6 %, Fax 4 %.',
    );

    const english = await agent.get('/account/history').set('Accept-Language', 'en').expect(200);
    expect(english.text).to.include('Usage by category');
    expect(usageOf(english.text).map((row) => row[0])).to.deep.equal(['Print', 'Copy', 'Scan', 'Fax']);
  });

  it('shows the pages and the reference of each job, and the job a cancellation cancels', async () => {
    const page = await agent.get('/account/history').expect(200);
    expect(historyOf(page.text)).to.deep.equal([
      ['Fax', '1 page · réf. job-5', '−0,15'],
      ['Annulation', 'Impression · 12 pages · réf. job-2', '+1,20'],
      ['Scan', 'réf. job-4', '−0,25'],
      ['Copie', '10 pages · réf. job-3', '−0,50'],
      ['Impression', '12 pages · réf. job-2', '−1,20'],
      ['Impression', '30 pages · réf. job-1', '−3,00'],
      ['Rechargement', '', '+50,00'],
    ]);
    expect(historyOf((await agent.get('/account/history').set('Accept-Language', 'en')).text)[0]).to.deep.equal(['Fax', '1 page · ref. job-5', '−0.15']);
  });

  it("shows on the account page the last lines in words, a job's pages without the print server's reference", async () => {
    const page = await agent.get('/account').expect(200);
    expect(recentLinesOf(page.text)).to.deep.equal([
      ['Fax', '1 page', '−0,15'],
      ['Annulation', 'Impression · 12 pages', '+1,20'],
      ['Scan', '', '−0,25'],
      ['Copie', '10 pages', '−0,50'],
      ['Impression', '12 pages', '−1,20'],
      ['Impression', '30 pages', '−3,00'],
    ]);
    expect(page.text).not.to.match(/job-\d/).and.not.to.include('réf.');
    expect(recentLinesOf((await agent.get('/account').set('Accept-Language', 'en')).text)[1]).to.deep.equal(['Reversal', 'Print · 12 pages', '+1.20']);
  });

  it('shows on the account page the usage of the last 30 days, in words', async () => {
    const page = await agent.get('/account').expect(200);
    expect(page.text).to.include('30 derniers jours · les travaux annulés ne sont pas comptés');
    // Only the fax of 1 November (Paris) falls in the 30 days up to 23 November.
    expect(usageOf(page.text)).to.deep.equal([
      ['Impression', '0,00', '0 %'],
      ['Copie', '0,00', '0 %'],
      ['Scan', '0,00', '0 %'],
      ['Fax', '0,15', '100 %'],
    ]);
    expect(totalOf(page.text)).to.equal('15');
    expect((await agent.get('/account').set('Accept-Language', 'en')).text).to.include('Last 30 days · cancelled jobs are not counted');
  });

  it('says when nothing was used in the last 30 days', async () => {
    const idle = await portal.addUser('idle', PASSWORD);
    await topUp(idle, 1000, '2026-11-20T08:00:00Z');
    await use(idle, 'print', 100, 10, '2026-10-01T09:00:00Z');
    const idleAgent = supertest.agent(portal.app);
    await logIn(idleAgent, 'idle', PASSWORD);
    const page = await idleAgent.get('/account').expect(200);
    expect(page.text).to.include('Aucune utilisation ces 30 derniers jours.').and.not.include('chart--share');
    expect(totalOf((await idleAgent.get('/account/history').expect(200)).text)).to.equal('100');
  });

  it('narrows the summary and the history to a named period of the portal\'s days, up to today (23 November 2026)', async () => {
    const periods = [
      { period: 'last_30_days', words: 'Du 25 octobre 2026 au 23 novembre 2026', operations: ['Fax'], total: '15' },
      { period: 'this_month', words: 'Du 1 novembre 2026 au 23 novembre 2026', operations: ['Fax'], total: '15' },
      { period: 'last_month', words: 'Du 1 octobre 2026 au 31 octobre 2026', operations: ['Annulation', 'Scan', 'Copie'], total: '75' },
      { period: 'this_year', words: 'Du 1 janvier 2026 au 23 novembre 2026', operations: ['Fax', 'Annulation', 'Scan', 'Copie', 'Impression', 'Impression', 'Rechargement'], total: '390' },
    ];
    for (const { period, words, operations, total } of periods) {
      const page = await agent.get(`/account/history?period=${period}`).expect(200);
      expect(page.text, period).to.include(words).and.include(`value="${period}" checked`);
      expect(historyOf(page.text).map((row) => row[0]), period).to.deep.equal(operations);
      expect(totalOf(page.text), period).to.equal(total);
    }
    // The days of the custom period, sent along by the form while hidden, do not change a named one.
    const named = await agent.get('/account/history?period=last_month&category=&from=2026-01-01&to=2026-01-31').expect(200);
    expect(totalOf(named.text)).to.equal('75');
    const custom = await agent.get('/account/history?period=custom&category=&from=2026-09-01&to=2026-09-30').expect(200);
    expect(custom.text).to.include('Du 1 septembre 2026 au 30 septembre 2026').and.include('value="custom" checked');
    expect(historyOf(custom.text).map((row) => row[0])).to.deep.equal(['Impression', 'Impression', 'Rechargement']);
    // Without a period, everything; the choice is "all history".
    expect((await agent.get('/account/history').expect(200)).text).to.include('value="all" checked');
    expect((await agent.get('/account/history?period=this_year').set('Accept-Language', 'en').expect(200)).text).to.include('This year').and.include('Custom range');
  });

  it('offers the periods in plain words, the custom days as date fields, with no date format or time zone to read', async () => {
    for (const [locale, words] of [
      ['fr', ['Tout l&#39;historique', '30 derniers jours', 'Ce mois-ci', 'Le mois dernier', 'Cette année', 'Période personnalisée']],
      ['en', ['All history', 'Last 30 days', 'This month', 'Last month', 'This year', 'Custom range']],
    ] as const) {
      const page = (await agent.get('/account/history').set('Accept-Language', locale).expect(200)).text;
      const labels = [...page.matchAll(/<input type="radio" name="period" value="[a-z_0-9]+"(?: checked)?> ([^<]*)<\/label>/g)].map((match) => match[1]);
      expect(labels, locale).to.deep.equal(words);
      expect(page, locale).to.match(/<div class="period-custom">[\s\S]*<input type="date" id="filter-from" name="from"[\s\S]*<input type="date" id="filter-to" name="to"/);
      expect(page, locale).not.to.match(/AAAA|YYYY|Europe\/Paris/);
    }
  });

  it('narrows the summary and the history to a category', async () => {
    const print = await agent.get('/account/history?category=print').expect(200);
    expect(print.text).to.match(/<option value="print" selected>/);
    expect(usageOf(print.text)).to.deep.equal([['Impression', '3,00', '100 %']]);
    expect(historyOf(print.text).map((row) => row[2])).to.deep.equal(['+1,20', '−1,20', '−3,00']);

    const topUps = await agent.get('/account/history?category=top_up').expect(200);
    expect(historyOf(topUps.text)).to.deep.equal([['Rechargement', '', '+50,00']]);
    expect(usageOf(topUps.text)).to.deep.equal([]);
    expect(topUps.text).to.include('Aucune utilisation ne correspond à ce filtre.').and.not.include('chart--share');
  });

  it('narrows the summary and the history to whole days of the portal, a cancellation counted with its job', async () => {
    const october = await agent.get('/account/history?from=2026-10-01&to=2026-10-31').expect(200);
    expect(october.text).to.include('Du 1 octobre 2026 au 31 octobre 2026');
    // The print job cancelled in October was made in September: October used nothing of it.
    expect(usageOf(october.text)).to.deep.equal([
      ['Impression', '0,00', '0 %'],
      ['Copie', '0,50', '67 %'],
      ['Scan', '0,25', '33 %'],
      ['Fax', '0,00', '0 %'],
    ]);
    expect(historyOf(october.text).map((row) => row[1])).to.deep.equal(['Impression · 12 pages · réf. job-2', 'réf. job-4', '10 pages · réf. job-3']);

    const september = await agent.get('/account/history?from=2026-09-01&to=2026-09-30&category=print').expect(200);
    expect(usageOf(september.text)).to.deep.equal([['Impression', '3,00', '100 %']]);
    expect(historyOf(september.text).map((row) => row[1])).to.deep.equal(['12 pages · réf. job-2', '30 pages · réf. job-1']);

    const sinceNovember = await agent.get('/account/history?from=2026-11-01').expect(200);
    expect(sinceNovember.text).to.include('Depuis le 1 novembre 2026');
    expect(historyOf(sinceNovember.text).map((row) => row[0])).to.deep.equal(['Fax']);
    expect(totalOf(sinceNovember.text)).to.equal('15');

    const untilSeptember = await agent.get('/account/history?to=2026-09-10&category=').expect(200);
    expect(untilSeptember.text).to.include('Jusqu&#39;au 10 septembre 2026');
    expect(historyOf(untilSeptember.text)).to.have.length(2);

    const empty = await agent.get('/account/history?from=2026-01-01&to=2026-01-31').expect(200);
    expect(empty.text).to.include('Aucune opération ne correspond à ce filtre.').and.include('Aucune utilisation ne correspond à ce filtre.');
  });

  it('refuses a filter that is not one, in the reader\'s language, showing no figures', async () => {
    const bad = ['category=usage', 'category=print&category=copy', 'from=2026-02-30', 'to=tomorrow', 'from=2026-10-02&to=2026-10-01'];
    for (const query of bad) {
      const page = await agent.get(`/account/history?${query}`);
      expect(page.status, query).to.equal(400);
      expect(page.text, query).to.include('Le filtre n&#39;est pas valide').and.include('aria-invalid="true"');
      expect(historyOf(page.text), query).to.deep.equal([]);
      expect(page.text, query).not.to.include('usage-title');
    }
    const english = await agent.get('/account/history?from=2026-10-02&to=2026-10-01').set('Accept-Language', 'en').expect(400);
    expect(english.text).to.include('The last day must be the first day or a later one.').and.include('value="2026-10-02"');
    // A period that is not one of the list.
    const unknown = await agent.get('/account/history?period=yesterday').expect(400);
    expect(unknown.text).to.include('Choisissez une période de la liste.').and.include('aria-describedby="filter-period-error"');
    expect((await agent.get('/account/history?category=fax').set('Accept-Language', 'en').expect(200)).text).to.include('Show everything');
  });

  it('shows a share that rounds to 0 % while something was used as less than 1 %', async () => {
    const sam = await portal.addUser('sam', PASSWORD);
    await topUp(sam, 20_000, '2026-11-02T08:00:00Z');
    await use(sam, 'print', 10_000, 2000, '2026-11-03T09:00:00Z');
    await use(sam, 'scan', 5, 1, '2026-11-04T09:00:00Z');
    const samAgent = supertest.agent(portal.app);
    await logIn(samAgent, 'sam', PASSWORD);
    expect(usageOf((await samAgent.get('/account').expect(200)).text)).to.deep.equal([
      ['Impression', '100,00', '100 %'],
      ['Copie', '0,00', '0 %'],
      ['Scan', '0,05', '< 1 %'],
      ['Fax', '0,00', '0 %'],
    ]);
  });

  it("never counts or shows another person's usage", async () => {
    const other = await portal.addUser('noor', PASSWORD);
    await topUp(other, 2000, '2026-10-01T08:00:00Z');
    await use(other, 'print', 777, 77, '2026-10-02T09:00:00Z');
    await use(other, 'fax', 150, 10, '2026-10-03T09:00:00Z');
    for (const query of ['', '?category=print', '?category=fax&from=2026-10-01&to=2026-10-31']) {
      const page = await agent.get(`/account/history${query}`).expect(200);
      expect(page.text, query).not.to.include('7,77').and.not.to.include('77 pages').and.not.to.include('1,50').and.not.to.match(/job-[67]\b/);
    }
    expect(totalOf((await agent.get('/account/history')).text)).to.equal('390');
    const overview = await agent.get('/account').expect(200);
    expect(overview.text).not.to.include('7,77').and.not.to.include('77 pages').and.not.to.include('1,50');
    expect(totalOf(overview.text)).to.equal('15');
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
