import { expect } from 'chai';
import { createLowBalanceAlerts } from '../../src/services/low-balance/low-balance-alert.js';
import { anonymiseAccount, closeAccount } from '../../src/services/people/anonymisation.js';
import { testDialect } from '../helpers/database.js';
import { apiPortalPerTest, newIdempotencyKey, type ApiPortal } from './print-api-helpers.js';

const debit = (units: number, reference: string, extra: Record<string, unknown> = {}) => ({
  method: 'POST' as const,
  path: '/accounts/alice/debits',
  headers: { 'Idempotency-Key': newIdempotencyKey() },
  body: { category: 'print', units, reference, ...extra },
});
const cancel = (reference: string) => ({ method: 'POST' as const, path: `/accounts/alice/debits/${reference}/cancel` });

/** What the low-balance alert may do wrong around a crossing: mails that say what is no longer true, or go where they should not. */
describe(`low-balance alerts under review (${testDialect})`, function () {
  this.timeout(30_000);
  let api: ApiPortal;
  const context = apiPortalPerTest();
  beforeEach(() => ({ api } = context));

  const aliceId = async () => Number((await api.portal.db.knex('users').where('username', 'alice').first('id')).id);
  const chooseThreshold = async (typed: string) => createLowBalanceAlerts({ db: api.portal.db, clock: api.portal.clock }).choose(await aliceId(), typed, 'fr');
  /** The low-balance mails handed to the transport (kept: the test transport keeps them). */
  const delivered = async () => {
    await api.portal.mail.deliverDue();
    return api.portal.db.knex('mail_outbox').where('notice_kind', 'low_balance.crossed').whereIn('status', ['sent', 'kept']).select('recipient', 'notice_params');
  };

  it('sends no alert for a debit cancelled before its mail went out: the balance is back above the threshold', async () => {
    await chooseThreshold('5');
    expect((await api.api(debit(6, 'job-1'))).status).to.equal(201); // 10,00 → 4,00: crosses, mail queued
    expect((await api.api(cancel('job-1'))).status).to.equal(200); // back to 10,00 within seconds
    expect(await api.balanceOf(context.alice.accountId)).to.equal(1000);
    expect(await delivered(), 'a mail saying "4,00 units left" while 10,00 are').to.have.length(0);
  });

  it('sends one alert, not one per attempt, when a print server debits, cancels and debits again the same job', async () => {
    await chooseThreshold('5');
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      expect((await api.api(debit(6, `retry-${attempt}`))).status).to.equal(201);
      if (attempt < 3) expect((await api.api(cancel(`retry-${attempt}`))).status).to.equal(200);
    }
    expect(await delivered()).to.have.length(1);
  });

  it('takes the mail back with a debit rolled back after its posting, so the next crossing still alerts', async () => {
    await chooseThreshold('5');
    expect((await api.api(debit(1, 'job-1'))).status).to.equal(201); // 10,00 → 9,00
    // Posted (9,00 → 4,00, crossing) then refused when the job's row is written: the reference is taken.
    expect((await api.api(debit(5, 'job-1'))).status).to.equal(409);
    expect((await api.api(debit(5, 'job-2'))).status).to.equal(201);
    expect(await api.balanceOf(context.alice.accountId)).to.equal(400);
    const mails = await delivered();
    expect(mails).to.have.length(1);
    expect(JSON.parse(String(mails[0].notice_params))).to.deep.equal({ balance: 400, threshold: 500 });
  });

  it('mails no disabled person (they cannot sign in to top up) when a job printed before still debits them', async () => {
    await chooseThreshold('5');
    await api.portal.db.knex('users').where('username', 'alice').update({ disabled: true });
    expect((await api.api(debit(6, 'printed-before', { afterPrinting: true }))).status).to.equal(201);
    expect(await delivered()).to.have.length(0);
  });

  it('does not send an alert queued before the account was closed, nor keep its address once anonymised', async () => {
    await chooseThreshold('5');
    expect((await api.api(debit(6, 'last-job'))).status).to.equal(201);
    const admin = await api.portal.addUser('gestion', 'gestion-password-123', { role: 'admin' });
    await closeAccount({ db: api.portal.db, clock: api.portal.clock }, 'alice', admin);
    await anonymiseAccount({ db: api.portal.db, clock: api.portal.clock }, 'alice', admin);
    expect(await api.portal.db.knex('mail_outbox').where('recipient', 'alice@example.edu').select('id'), 'the erased address').to.have.length(0);
    expect(await delivered(), 'a "top up" mail to a closed account').to.have.length(0);
    expect(await api.portal.db.knex('low_balance_alerts').where('account_id', context.alice.accountId).select('account_id'), 'the alert of an erased person').to.have.length(0);
  });

  it('queues the mail\'s Message-ID without the host\'s name: delivery gives it the portal\'s domain', async () => {
    await chooseThreshold('5');
    expect((await api.api(debit(6, 'crossing'))).status).to.equal(201);
    const { message_id: messageId } = await api.portal.db.knex('mail_outbox').where('notice_kind', 'low_balance.crossed').first('message_id');
    expect(String(messageId)).to.match(/^<low-balance\.\d+\.\d+\.[0-9a-f]+>$/);
  });
});
