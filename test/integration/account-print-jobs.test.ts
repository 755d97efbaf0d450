import { expect } from 'chai';
import supertest from 'supertest';
import { getAccountByCode, postTransaction, reverseTransaction } from '../../src/db/ledger/ledger-repository.js';
import { SystemAccount, type UsageCategory } from '../../src/domain/ledger/ledger.js';
import type { User } from '../../src/domain/people/users.js';
import { createApiKeyManagement } from '../../src/services/print-api/api-key-management.js';
import { recordUsage } from '../../src/services/print-api/usage-debits.js';
import { expectLedgerConsistent, testDialect } from '../helpers/database.js';
import { createTestPortal, logIn, type TestPortal } from '../helpers/portal.js';

const PASSWORD = 'a good long password';

/** What a print server said of a job (null or absent: it did not say). */
interface JobDetails {
  printer?: string | null;
  pages?: number | null;
  colour?: boolean | null;
  duplex?: boolean | null;
}

const plain = (text: string) => text.replace(/[\u00a0\u202f]/g, ' ').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

/** The history table: [operation, details, amount]. */
const historyOf = (html: string) =>
  [...html.matchAll(/<tr>\s*<td><time[^>]*>[^<]*<\/time><\/td>\s*<td>([^<]*?)\s*(?:<span class="muted history__details">([^<]*)<\/span>)?<\/td>\s*<td class="number [a-z]+">([^<]*)<\/td>/g)].map((match) =>
    [match[1]!, match[2] ?? '', match[3]!].map(plain),
  );
/** The account page's recent activity: each line as read, e.g. "Impression · b112 · 3 pages". */
const recentOf = (html: string) =>
  [...html.matchAll(/<span class="recent-activity__what">([^<]*?)\s*(?:<span class="muted">([^<]*)<\/span>)?<\/span>/g)].map((match) => plain(`${match[1]}${match[2] ? ` ${match[2]}` : ''}`));
/** The refused jobs' section: [date as written in the datetime attribute, why, the job in words, what it would have cost]; null when there is none. */
const refusedOf = (html: string) => {
  const section = /<section class="card" aria-labelledby="refused-title">([\s\S]*?)<\/section>/.exec(html)?.[1];
  if (section === undefined) return null;
  return [
    ...section.matchAll(
      /<tr>\s*<td><time datetime="([^"]+)">[^<]*<\/time><\/td>\s*<td>([^<]*?) <span class="muted history__details">([^<]*)<\/span><\/td>\s*<td class="number"><span class="cell-label">[^<]*<\/span> ([^<]*)<\/td>/g,
    ),
  ].map((match) => [match[1]!, ...[match[2]!, match[3]!, match[4]!].map(plain)]);
};

describe(`account history: what the print servers said of each job, and the jobs they refused (${testDialect})`, () => {
  let portal: TestPortal;
  let apiKeyId: number;
  let lou: User;
  let agent: ReturnType<typeof supertest.agent>;
  let serial = 0;

  const accountOf = async (user: User) => (await portal.ledger.userAccount(user.id)).id;
  /** A debit as a print server records it, then what it said of the job. */
  async function debit(user: User, category: UsageCategory, amount: number, at: string, details: JobDetails = {}) {
    const reference = `job-${(serial += 1)}`;
    const request = { apiKeyId, accountId: await accountOf(user), category, amount, pages: details.pages ?? null, reference, ledgerKey: `test:${reference}` };
    const recorded = await portal.db.transaction((trx) => recordUsage(trx, request, new Date(at)));
    await portal.db.knex('usage_debits').where('id', recorded.id).update({ printer: details.printer ?? null, colour: details.colour ?? null, duplex: details.duplex ?? null });
    return recorded;
  }
  /** A job a print server refused before printing it: no ledger transaction, a row of its own. */
  async function refusal(user: User, reason: 'insufficient_balance' | 'account_disabled', category: UsageCategory, amount: number, at: string, details: JobDetails = {}) {
    await portal.db.knex('usage_refusals').insert({
      api_key_id: apiKeyId,
      account_id: await accountOf(user),
      category,
      reason,
      amount,
      balance_seen: 40,
      pages: details.pages ?? null,
      printer: details.printer ?? null,
      colour: details.colour ?? null,
      duplex: details.duplex ?? null,
      reference: `refused-${(serial += 1)}`,
      created_at: new Date(at).toISOString(),
    });
  }
  async function signedIn(user: User) {
    const signed = supertest.agent(portal.app);
    await logIn(signed, user.username, PASSWORD);
    return signed;
  }

  before(async () => {
    portal = await createTestPortal();
    apiKeyId = (await createApiKeyManagement({ db: portal.db, clock: portal.clock }).create({ name: 'print1', actor: null })).id;
    lou = await portal.addUser('lou', PASSWORD);
    const louAccount = await accountOf(lou);
    await portal.db.transaction(async (trx) => {
      const topUps = await getAccountByCode(trx, SystemAccount.topUps);
      const lines = [
        { accountId: louAccount, amount: 5000 },
        { accountId: topUps.id, amount: -5000 },
      ];
      await postTransaction(trx, { idempotencyKey: 'top-up:lou', kind: 'top_up', lines }, new Date('2026-10-01T08:00:00Z'));
    });
    await debit(lou, 'print', 120, '2026-10-02T09:00:00Z', { pages: 12 }); // job-1: a server that says only the pages
    const colour = await debit(lou, 'print', 300, '2026-11-02T09:00:00Z', { printer: 'b112', pages: 3, colour: true, duplex: true }); // job-2
    await debit(lou, 'copy', 50, '2026-11-03T09:00:00Z', { printer: 'copieur-rdc', pages: 10, colour: false, duplex: false }); // job-3
    await debit(lou, 'print', 40, '2026-11-04T09:00:00Z', { printer: 'b112', pages: 4 }); // job-4: no colour or sides said
    await portal.db.transaction((trx) => reverseTransaction(trx, { transactionId: colour.transactionId, idempotencyKey: 'test:cancel:job-2' }, new Date('2026-11-05T09:00:00Z')));
    agent = await signedIn(lou);
  });
  afterEach(() => expectLedgerConsistent(portal.db));
  after(() => portal.cleanup());

  it('shows on each job of the history its printer, pages, colour or black and white, and one or two sides, when the print server said them', async () => {
    const page = (await agent.get('/account/history').expect(200)).text;
    expect(historyOf(page)).to.deep.equal([
      ['Annulation', 'Impression · b112 · 3 pages · couleur · recto verso · réf. job-2', '+3,00'],
      ['Impression', 'b112 · 4 pages · réf. job-4', '−0,40'],
      ['Copie', 'copieur-rdc · 10 pages · noir et blanc · recto · réf. job-3', '−0,50'],
      ['Impression', 'b112 · 3 pages · couleur · recto verso · réf. job-2', '−3,00'],
      ['Impression', '12 pages · réf. job-1', '−1,20'],
      ['Rechargement', '', '+50,00'],
    ]);
    const english = (await agent.get('/account/history').set('Accept-Language', 'en').expect(200)).text;
    expect(historyOf(english).slice(2, 4).map((row) => row[1])).to.deep.equal(['copieur-rdc · 10 pages · black & white · one-sided · ref. job-3', 'b112 · 3 pages · colour · two-sided · ref. job-2']);
  });

  it('says the same of the last jobs on the account page, without the reference', async () => {
    const page = (await agent.get('/account').expect(200)).text;
    expect(recentOf(page).slice(0, 4)).to.deep.equal([
      'Annulation · Impression · b112 · 3 pages · couleur · recto verso',
      'Impression · b112 · 4 pages',
      'Copie · copieur-rdc · 10 pages · noir et blanc · recto',
      'Impression · b112 · 3 pages · couleur · recto verso',
    ]);
    expect(recentOf((await agent.get('/account').set('Accept-Language', 'en').expect(200)).text)[3]).to.equal('Print · b112 · 3 pages · colour · two-sided');
  });

  describe('refused jobs', () => {
    let sam: User;

    before(async () => {
      sam = await portal.addUser('sam', PASSWORD);
      await refusal(sam, 'insufficient_balance', 'print', 250, '2026-11-10T09:00:00Z', { printer: 'b112', pages: 5, colour: true, duplex: false });
      await refusal(sam, 'account_disabled', 'copy', 30, '2026-11-12T09:00:00Z');
      await refusal(sam, 'insufficient_balance', 'print', 80, '2026-09-15T09:00:00Z', { printer: 'b114', pages: 8, colour: false });
      // Someone else's refusal is theirs alone.
      await refusal(lou, 'insufficient_balance', 'print', 999, '2026-11-11T09:00:00Z', { printer: 'secret-printer', pages: 99 });
    });

    it('lists them in a section of their own, newest first, with why, the job and what it would have cost, and debits nothing', async () => {
      const samAgent = await signedIn(sam);
      const page = (await samAgent.get('/account/history').expect(200)).text;
      expect(plain(page)).to.include('<h2 id="refused-title">Travaux refusés</h2>').and.include("rien n'a été débité");
      expect(refusedOf(page)).to.deep.equal([
        ['2026-11-12T09:00:00.000Z', 'Refusé : compte désactivé', 'Copie', '0,30'],
        ['2026-11-10T09:00:00.000Z', 'Refusé : crédit insuffisant', 'Impression · b112 · 5 pages · couleur · recto', '2,50'],
        ['2026-09-15T09:00:00.000Z', 'Refusé : crédit insuffisant', 'Impression · b114 · 8 pages · noir et blanc', '0,80'],
      ]);
      // Nothing was taken: no line in the history, the balance as it was.
      expect(historyOf(page)).to.deep.equal([]);
      expect((await portal.ledger.userAccount(sam.id)).balance).to.equal(0);
      expect(page).not.to.include('secret-printer');

      const english = (await samAgent.get('/account/history').set('Accept-Language', 'en').expect(200)).text;
      expect(english).to.include('<h2 id="refused-title">Refused jobs</h2>');
      expect(refusedOf(english)?.map((row) => row.slice(1))).to.deep.equal([
        ['Refused: account disabled', 'Copy', '0.30'],
        ['Refused: insufficient credit', 'Print · b112 · 5 pages · colour · one-sided', '2.50'],
        ['Refused: insufficient credit', 'Print · b114 · 8 pages · black & white', '0.80'],
      ]);
    });

    it("keeps to the filter's period and category, and shows no section when none is left", async () => {
      const samAgent = await signedIn(sam);
      const days = (query: string) => samAgent.get(`/account/history?${query}`).expect(200);
      expect(refusedOf((await days('from=2026-11-01&to=2026-11-11')).text)?.map((row) => row[0])).to.deep.equal(['2026-11-10T09:00:00.000Z']);
      expect(refusedOf((await days('category=copy')).text)?.map((row) => row[0])).to.deep.equal(['2026-11-12T09:00:00.000Z']);
      expect(refusedOf((await days('period=this_month')).text)?.map((row) => row[0])).to.deep.equal(['2026-11-12T09:00:00.000Z', '2026-11-10T09:00:00.000Z']);
      for (const query of ['category=top_up', 'from=2026-10-01&to=2026-10-31', 'category=scan']) expect(refusedOf((await days(query)).text), query).to.equal(null);
      // Lou's one refusal is of a print job.
      expect(refusedOf((await agent.get('/account/history?category=copy').expect(200)).text)).to.equal(null);
    });

    it('shows the 20 newest of a long run of refusals', async () => {
      const many = await portal.addUser('many', PASSWORD);
      for (let day = 1; day <= 25; day += 1) await refusal(many, 'insufficient_balance', 'print', day, `2026-10-${String(day).padStart(2, '0')}T09:00:00Z`, { pages: 1 });
      const shown = refusedOf((await (await signedIn(many)).get('/account/history').expect(200)).text);
      expect(shown?.map((row) => row[0])).to.deep.equal(Array.from({ length: 20 }, (_, index) => `2026-10-${String(25 - index).padStart(2, '0')}T09:00:00.000Z`));
    });
  });
});
