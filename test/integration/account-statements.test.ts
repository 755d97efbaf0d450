import { expect } from 'chai';
import supertest from 'supertest';
import { getAccountByCode, postTransaction } from '../../src/db/ledger/ledger-repository.js';
import { SystemAccount, USAGE_CATEGORIES } from '../../src/domain/ledger/ledger.js';
import type { User } from '../../src/domain/people/users.js';
import { expectLedgerConsistent, testDialect } from '../helpers/database.js';
import { createTestPortal, logIn, type TestPortal } from '../helpers/portal.js';
import { countStatements } from '../helpers/statements.js';

const PASSWORD = 'a good long password';

describe(`account page: statements whatever the length of the history (${testDialect})`, () => {
  let portal: TestPortal;

  /** `count` operations, a top-up then jobs in every category, one every 20 minutes up to the portal's now. */
  async function history(user: User, count: number) {
    const account = await portal.ledger.userAccount(user.id);
    const now = portal.clock.now().getTime();
    await portal.db.transaction(async (trx) => {
      const topUps = await getAccountByCode(trx, SystemAccount.topUps);
      const usage = await Promise.all(USAGE_CATEGORIES.map((category) => getAccountByCode(trx, SystemAccount.usage(category))));
      for (let index = 0; index < count; index += 1) {
        const [counterpart, amount] = index === 0 ? [topUps, 1_000_000] : [usage[index % usage.length]!, -(1 + (index % 5))];
        const lines = [
          { accountId: account.id, amount },
          { accountId: counterpart.id, amount: -amount },
        ];
        await postTransaction(trx, { idempotencyKey: `statements:${user.id}:${index}`, kind: index === 0 ? 'top_up' : 'usage', lines }, new Date(now - (count - index) * 20 * 60_000));
      }
    });
  }

  /** The statements of one page view, the person signed in and the page seen once already. */
  async function statementsOf(username: string, path: string) {
    const agent = supertest.agent(portal.app);
    await logIn(agent, username, PASSWORD);
    await agent.get(path).expect(200);
    return countStatements(portal.db, () => agent.get(path).expect(200));
  }

  before(async () => {
    portal = await createTestPortal();
    await history(await portal.addUser('brief', PASSWORD), 10);
    await history(await portal.addUser('lengthy', PASSWORD), 2_000);
  });
  afterEach(() => expectLedgerConsistent(portal.db));
  after(() => portal.cleanup());

  /** The statements every page reads: the session, the person with their account (one statement, joined), then its entries once. */
  function expectSessionPersonAndEntries(username: string, sql: string[]) {
    const people = sql.filter((statement) => /\bfrom [`"]users[`"]/i.test(statement));
    expect(people, 'the person and their account, together').to.have.length(1);
    expect(people[0]).to.match(/\bjoin [`"]accounts[`"]/i);
    expect(sql.filter((statement) => /\bledger_entries\b/.test(statement)), `${username}: the entries read once`).to.have.length(1);
  }

  it('reads /account in 4 statements with 10 entries as with 2,000: the session, the person with their account, the last 30 days\' usage, the recent lines', async () => {
    for (const username of ['brief', 'lengthy']) {
      const { count, sql } = await statementsOf(username, '/account');
      expect(count, `${username}:\n${sql.join('\n')}`).to.equal(4);
      expectSessionPersonAndEntries(username, sql);
      expect(sql.filter((statement) => /\baccount_activity\b/.test(statement)), 'the usage from the activity table').to.have.length(1);
    }
  });

  for (const path of ['/account/history', '/account/history?page=2', '/account/history?category=print&from=2026-11-01&to=2026-11-23', '/account/history?period=this_month&category=copy']) {
    it(`reads ${path} in 5 statements with 10 entries as with 2,000: the session, the person with their account, the counts and usage, the page, the period's refused jobs`, async () => {
      for (const username of ['brief', 'lengthy']) {
        const { count, sql } = await statementsOf(username, path);
        expect(count, `${username}:\n${sql.join('\n')}`).to.equal(5);
        expectSessionPersonAndEntries(username, sql);
        expect(sql.filter((statement) => /\busage_refusals\b/.test(statement)), 'the refused jobs read once').to.have.length(1);
      }
    });
  }
});
