import { expect } from 'chai';
import pino from 'pino';
import { retentionJobDeps } from '../../src/cli/retention.js';
import { createRetentionJob } from '../../src/services/retention/retention-job.js';
import { testDialect } from '../helpers/database.js';
import { apiPortalPerTest, newIdempotencyKey } from './print-api-helpers.js';

const DAY_MS = 24 * 3600_000;

describe(`retention of print servers' Idempotency-Keys (${testDialect})`, () => {
  const context = apiPortalPerTest();

  it('forgets a key past its period, and a late replay of that debit still debits nothing more', async () => {
    const { api, alice } = context;
    const key = newIdempotencyKey();
    const job = { category: 'print', units: 0.3, pages: 3, reference: 'job-late' };
    const call = { method: 'POST' as const, path: '/accounts/alice/debits', headers: { 'Idempotency-Key': key }, body: job };
    expect((await api.api(call)).status).to.equal(201);
    expect(await api.balanceOf(alice.accountId)).to.equal(970);

    api.portal.clock.advance((api.portal.config.retention.apiIdempotencyDays + 1) * DAY_MS);
    const run = await createRetentionJob(retentionJobDeps(api.portal.config, api.portal.db, api.portal.clock, pino({ level: 'silent' }))).run();
    expect(run.ran && run.removed.apiIdempotency).to.equal(1);

    const late = await api.api(call);
    expect(late.status).to.be.oneOf([200, 201]);
    expect(await api.balanceOf(alice.accountId)).to.equal(970);
    expect(await api.portal.db.knex('usage_debits').count({ n: '*' }).first()).to.deep.include({ n: testDialect === 'postgres' ? '1' : 1 });
  });
});
