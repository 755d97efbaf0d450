import { expect } from 'chai';
import { countStatements } from '../helpers/statements.js';
import { apiPortalPerTest, newIdempotencyKey, type ApiPortal } from './print-api-helpers.js';

const debit = (body: unknown, key = newIdempotencyKey()) => ({ method: 'POST' as const, path: '/accounts/alice/debits', headers: { 'Idempotency-Key': key }, body });

/** The table a statement writes, if it writes one. */
const writtenTable = (sql: string) => /^(?:insert into|update) [`"]?(\w+)/i.exec(sql)?.[1];

describe('Print-server API v1: statements of a debit', function () {
  this.timeout(20_000);
  let api: ApiPortal;
  const context = apiPortalPerTest();
  beforeEach(async () => {
    ({ api } = context);
    // The key's first use is recorded now; the clock stands still, so no debit below records it again.
    expect((await api.api({ method: 'GET', path: '/accounts/alice' })).status).to.equal(200);
  });

  it('debits in 12 statements and replays in 3, never reading back what the debit wrote', async () => {
    const call = debit({ category: 'print', units: 1, pages: 2, reference: 'job-1' });
    const fresh = await countStatements(api.portal.db, () => api.api(call));
    expect(fresh.result.status).to.equal(201);
    expect(fresh.result.body).to.deep.include({ account: { username: 'alice', balance: 9, balanceLow: false } });
    // The key, its claim; then BEGIN, the person's and the usage account, the ledger transaction, both
    // balances, the entries, the person's activity, the job's row, the saved answer, COMMIT.
    expect(fresh.count, fresh.sql.join('\n')).to.equal(12);
    const written = new Set<string>();
    for (const sql of fresh.sql) {
      const table = writtenTable(sql);
      if (table) written.add(table);
      else for (const read of written) expect(sql, `read back after writing ${read}`).not.to.match(new RegExp(`^select .* from [\`"]?${read}\\b`, 'i'));
    }

    const replay = await countStatements(api.portal.db, () => api.api(call));
    expect(replay.result.text).to.equal(fresh.result.text);
    // The key, the claim that finds the key taken, the saved answer.
    expect(replay.count, replay.sql.join('\n')).to.equal(3);
  });

  it('answers concurrent debits each with the balance it left, as the update wrote it', async () => {
    const answers = await Promise.all(Array.from({ length: 10 }, (_unused, job) => api.api(debit({ category: 'copy', units: 1, reference: `rush-${job}` }))));
    expect(answers.map((answer) => answer.status)).to.deep.equal(Array.from({ length: 10 }, () => 201));
    const balances = answers.map((answer) => (answer.body as { account: { balance: number } }).account.balance);
    expect(balances.sort((one, other) => one - other)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('refuses a reference already debited under another key as such (409), even beyond the balance', async () => {
    expect((await api.api(debit({ category: 'print', units: 6, reference: 'poster' }))).status).to.equal(201);
    const before = await api.counts();
    const again = await api.api(debit({ category: 'print', units: 6, reference: 'poster' }));
    expect(again.status).to.equal(409);
    expect(again.body).to.include({ title: 'Référence déjà débitée' });
    expect(await api.counts()).to.deep.equal({ ...before, idempotencyKeys: before.idempotencyKeys + 1 });
  });
});
