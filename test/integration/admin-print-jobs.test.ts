import { expect } from 'chai';
import supertest from 'supertest';
import { reverseTransaction } from '../../src/db/ledger/ledger-repository.js';
import type { UsageCategory } from '../../src/domain/ledger/ledger.js';
import { createApiKeyManagement } from '../../src/services/print-api/api-key-management.js';
import { recordUsage } from '../../src/services/print-api/usage-debits.js';
import { formatDateTime } from '../../src/i18n/format.js';
import { expectLedgerConsistent, testDialect } from '../helpers/database.js';
import { createTestPortal, logIn, type TestPortal } from '../helpers/portal.js';

type Agent = ReturnType<typeof supertest.agent>;

/** What a print server said of a job, as the tests write it (null: it did not say). */
interface JobDetails {
  printer?: string | null;
  pages?: number | null;
  colour?: boolean | null;
  duplex?: boolean | null;
}

/** The page's text as a reader sees it: EJS escapes quotes and ampersands. */
const readable = (html: string) => html.replace(/&#39;/g, "'").replace(/&#34;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The jobs table: one array of cell texts per job (the phone's column names left out), newest first. */
const jobsOf = (html: string) =>
  [...html.matchAll(/<tr data-job="[a-z]+">([\s\S]*?)<\/tr>/g)].map((row) =>
    [...row[1]!.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((cell) =>
      readable(
        cell[1]!
          .replace(/<span class="cell-label">[^<]*<\/span>/g, '')
          .replace(/<[^>]*>/g, ' ')
          .replace(/\s+/g, ' ')
          .trim(),
      ).replace(/[\u00a0\u202f]/g, ' '),
    ),
  );
/** The references of the jobs shown, newest first. */
const referencesOf = (html: string) => [...html.matchAll(/réf\. ([^<]+)<\/span><\/span><\/th>/g)].map((match) => readable(match[1]!));
const linkOf = (html: string, rel: 'prev' | 'next') => readable(new RegExp(`<a href="([^"]+)" rel="${rel}">`).exec(html)?.[1] ?? '') || null;
const pageOfText = (html: string) => /<span aria-current="page">([^<]*)<\/span>/.exec(html)?.[1] ?? null;

describe(`administration: a print server's jobs (${testDialect})`, function () {
  let portal: TestPortal;
  let admin: Agent;
  let keyId: number;
  let otherKeyId: number;
  let serial = 0;
  const accounts = new Map<string, number>();

  const jobsPath = (id: number | string) => `/admin/api-keys/${id}/jobs`;
  const at = (minutes: number) => new Date(Date.parse('2026-11-20T08:00:00Z') + minutes * 60_000);

  /** A debit of the key, as a print server would have recorded it, with what the server said of the job. */
  async function debit(key: number, username: string, category: UsageCategory, amount: number, when: Date, details: JobDetails = {}, reference = `debit-${(serial += 1)}`) {
    const request = { apiKeyId: key, accountId: accounts.get(username)!, category, amount, pages: details.pages ?? null, reference, ledgerKey: `test:${key}:${reference}` };
    const recorded = await portal.db.transaction((trx) => recordUsage(trx, request, when));
    await portal.db.knex('usage_debits').where('id', recorded.id).update({ printer: details.printer ?? null, colour: details.colour ?? null, duplex: details.duplex ?? null });
    return recorded;
  }
  /** A job the key's print server refused before printing it. */
  async function refusal(key: number, username: string, reason: 'insufficient_balance' | 'account_disabled', amount: number, when: Date, details: JobDetails = {}, reference = `refusal-${(serial += 1)}`) {
    await portal.db.knex('usage_refusals').insert({
      api_key_id: key,
      account_id: accounts.get(username)!,
      category: 'print',
      reason,
      amount,
      balance_seen: 10,
      pages: details.pages ?? null,
      printer: details.printer ?? null,
      colour: details.colour ?? null,
      duplex: details.duplex ?? null,
      reference,
      created_at: when.toISOString(),
    });
  }
  const loggedInAs = async (username: string, password: string) => {
    const agent = supertest.agent(portal.app);
    expect((await logIn(agent, username, password)).status).to.equal(303);
    return agent;
  };

  before(async () => {
    portal = await createTestPortal();
    const keys = createApiKeyManagement({ db: portal.db, clock: portal.clock });
    keyId = (await keys.create({ name: 'Bibliothèque – salle B', actor: null })).id;
    otherKeyId = (await keys.create({ name: 'Reprographie', actor: null })).id;
    for (const username of ['lou', 'sacha']) {
      const user = await portal.addUser(username, `${username}-password-123`);
      const account = await portal.ledger.userAccount(user.id);
      accounts.set(username, account.id);
      await portal.db.knex('accounts').where('id', account.id).update({ allow_negative: true });
    }
    await portal.addUser('informatique', 'it-team-password', { role: 'it' });
    await portal.addUser('gestion', 'admin-password', { role: 'admin' });
    admin = await loggedInAs('gestion', 'admin-password');
  });
  afterEach(() => expectLedgerConsistent(portal.db));
  after(() => portal.cleanup());

  it('lets only admins see a print server\'s jobs: 403 for a person and IT, the login page for a visitor', async () => {
    for (const [username, password] of [
      ['lou', 'lou-password-123'],
      ['informatique', 'it-team-password'],
    ] as const) {
      expect((await (await loggedInAs(username, password)).get(jobsPath(keyId))).status, username).to.equal(403);
    }
    const visitor = await supertest(portal.app).get(jobsPath(keyId));
    expect([visitor.status, visitor.headers.location]).to.deep.equal([303, '/login']);
  });

  it('answers 404 for a key that does not exist, and 400 for a position in the list it cannot read', async () => {
    for (const id of ['999999', '0', 'abc', '1e3', '-1']) expect((await admin.get(jobsPath(id))).status, id).to.equal(404);
    for (const query of ['before=abc', 'after=12', 'before=1d0', 'before=1x1', 'before=1d1&after=1d1', 'before=1d1&before=2d2', `before=1d${'9'.repeat(16)}`]) {
      expect((await admin.get(`${jobsPath(keyId)}?${query}`)).status, query).to.equal(400);
    }
  });

  it('lists debits and refusals together, newest first: the person, the job with its printer, pages, colour and sides, the units and what became of it', async () => {
    const key = (await createApiKeyManagement({ db: portal.db, clock: portal.clock }).create({ name: 'Salle des thèses', actor: null })).id;
    await debit(key, 'lou', 'print', 300, at(1), { printer: 'b112', pages: 3, colour: true, duplex: true }, 'print1:b112:41');
    const cancelled = await debit(key, 'sacha', 'copy', 50, at(2), { printer: 'copieur-rdc', pages: 10, colour: false, duplex: false }, 'print1:copieur-rdc:7');
    await portal.db.transaction((trx) => reverseTransaction(trx, { transactionId: cancelled.transactionId, idempotencyKey: 'test:cancel:copy' }, at(3)));
    await refusal(key, 'lou', 'insufficient_balance', 250, at(4), { printer: 'b112', pages: 5, colour: true, duplex: false }, 'print1:b112:42');
    await refusal(key, 'sacha', 'account_disabled', 30, at(5), {}, 'print1:b112:43');
    await debit(key, 'lou', 'scan', 25, at(6), {}, 'old-server-job');
    // Another print server's jobs are on its own page.
    await debit(otherKeyId, 'lou', 'print', 90, at(7), { printer: 'repro' }, 'elsewhere');

    const page = (await admin.get(jobsPath(key)).expect(200)).text;
    const time = (minutes: number) => formatDateTime(at(minutes), 'fr', portal.config.i18n.timeZone).replace(/[\u00a0\u202f]/g, ' ');
    expect(readable(page)).to.include('Travaux de « Salle des thèses »').and.include('5 travaux');
    expect(jobsOf(page)).to.deep.equal([
      [`${time(6)} réf. old-server-job`, 'lou', 'Scan', '0,25', 'Débité'],
      [`${time(5)} réf. print1:b112:43`, 'sacha', 'Impression', '0,30', 'Refusé : compte désactivé'],
      [`${time(4)} réf. print1:b112:42`, 'lou', 'Impression · b112 · 5 pages · couleur · recto', '2,50', 'Refusé : crédit insuffisant'],
      [`${time(2)} réf. print1:copieur-rdc:7`, 'sacha', 'Copie · copieur-rdc · 10 pages · noir et blanc · recto', '0,50', 'Annulé'],
      [`${time(1)} réf. print1:b112:41`, 'lou', 'Impression · b112 · 3 pages · couleur · recto verso', '3,00', 'Débité'],
    ]);
    expect(page).not.to.include('elsewhere').and.not.to.include('rel="next"').and.not.to.include('rel="prev"');

    const english = (await admin.get(jobsPath(key)).set('Accept-Language', 'en').expect(200)).text;
    expect(readable(english)).to.include('Jobs of "Salle des thèses"').and.include('5 jobs');
    expect(jobsOf(english).map((row) => row.slice(2))).to.deep.equal([
      ['Scan', '0.25', 'Debited'],
      ['Print', '0.30', 'Refused: account disabled'],
      ['Print · b112 · 5 pages · colour · one-sided', '2.50', 'Refused: insufficient credit'],
      ['Copy · copieur-rdc · 10 pages · black & white · one-sided', '0.50', 'Cancelled'],
      ['Print · b112 · 3 pages · colour · two-sided', '3.00', 'Debited'],
    ]);
  });

  it('says when a print server has sent nothing yet, and that it never made contact', async () => {
    const key = (await createApiKeyManagement({ db: portal.db, clock: portal.clock }).create({ name: 'Serveur neuf', actor: null })).id;
    const page = readable((await admin.get(jobsPath(key)).expect(200)).text);
    expect(page).to.include('Aucun travail reçu de ce serveur pour le moment.').and.include('<dt>Dernier contact</dt><dd>jamais</dd>');
  });

  it('shows each key\'s last contact on the list, and links to its jobs', async () => {
    const list = readable((await admin.get('/admin/api-keys').expect(200)).text);
    expect(list).to.include('<th scope="col">Dernier contact</th>');
    expect(list).to.include(`<a href="${jobsPath(keyId)}" aria-label="Voir les travaux de « Bibliothèque – salle B »`);
    expect((await admin.get('/admin/api-keys').set('Accept-Language', 'en').expect(200)).text).to.include('<th scope="col">Last contact</th>');
  });

  it('pages 50 jobs at a time by position: every job once, none skipped or repeated when new jobs arrive meanwhile', async () => {
    const key = (await createApiKeyManagement({ db: portal.db, clock: portal.clock }).create({ name: 'Grand volume', actor: null })).id;
    const expected: string[] = [];
    // 120 jobs, newest first in `expected`: two debits and a refusal at each instant, so that ties are ordered too.
    for (let minute = 0; minute < 40; minute += 1) {
      const when = at(100 + minute);
      await debit(key, 'lou', 'print', 10, when, { pages: 1 }, `job-${minute}-a`);
      await debit(key, 'sacha', 'print', 10, when, { pages: 1 }, `job-${minute}-b`);
      await refusal(key, 'lou', 'insufficient_balance', 10, when, { pages: 1 }, `job-${minute}-r`);
      // At one instant: refusals first, then debits, the newest id first.
      expected.unshift(`job-${minute}-r`, `job-${minute}-b`, `job-${minute}-a`);
    }

    const first = (await admin.get(jobsPath(key)).expect(200)).text;
    expect(referencesOf(first)).to.deep.equal(expected.slice(0, 50));
    expect(pageOfText(first)).to.equal('Page 1 sur 3');
    expect(linkOf(first, 'prev')).to.equal(null);
    // New jobs arrive while the admin reads the first page.
    for (let minute = 0; minute < 3; minute += 1) await debit(key, 'lou', 'print', 10, at(500 + minute), { pages: 1 }, `late-${minute}`);

    const second = (await admin.get(linkOf(first, 'next')!).expect(200)).text;
    expect(referencesOf(second)).to.deep.equal(expected.slice(50, 100));
    expect(pageOfText(second)).to.equal('Page 3 sur 4');
    const third = (await admin.get(linkOf(second, 'next')!).expect(200)).text;
    expect(referencesOf(third)).to.deep.equal(expected.slice(100));
    expect(pageOfText(third)).to.equal('Page 4 sur 4');
    expect(linkOf(third, 'next')).to.equal(null);

    // Back: the page before the second is the 50 jobs newer than it, then the newest ones.
    const back = (await admin.get(linkOf(second, 'prev')!).expect(200)).text;
    expect(referencesOf(back)).to.deep.equal(expected.slice(0, 50));
    expect(pageOfText(back)).to.equal('Page 2 sur 4');
    const newest = (await admin.get(linkOf(back, 'prev')!).expect(200)).text;
    expect(referencesOf(newest)).to.deep.equal(['late-2', 'late-1', 'late-0']);
    expect(pageOfText(newest)).to.equal('Page 1 sur 4');
    expect(linkOf(newest, 'prev')).to.equal(null);
    expect(referencesOf((await admin.get(linkOf(newest, 'next')!).expect(200)).text)).to.deep.equal(expected.slice(0, 50));
  });

  it('shows the first page for a position past either end of the list', async () => {
    const key = (await createApiKeyManagement({ db: portal.db, clock: portal.clock }).create({ name: 'Bout de liste', actor: null })).id;
    await debit(key, 'lou', 'print', 10, at(900), { pages: 1 }, 'only-job');
    for (const query of [`before=${at(800).getTime()}d1`, `after=${at(1000).getTime()}r1`]) {
      expect(referencesOf((await admin.get(`${jobsPath(key)}?${query}`).expect(200)).text), query).to.deep.equal(['only-job']);
    }
  });
});
