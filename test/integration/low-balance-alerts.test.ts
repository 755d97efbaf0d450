import { expect } from 'chai';
import { getAccountByCode } from '../../src/db/ledger/ledger-repository.js';
import { findMail } from '../../src/db/mail/mail-outbox-repository.js';
import { SystemAccount } from '../../src/domain/ledger/ledger.js';
import { newFormNonce } from '../../src/domain/shared/form-nonce.js';
import { createAdjustments } from '../../src/services/ledger/adjustments.js';
import { createLowBalanceAlerts } from '../../src/services/low-balance/low-balance-alert.js';
import { testDialect } from '../helpers/database.js';
import { countStatements } from '../helpers/statements.js';
import { apiPortalPerTest, newIdempotencyKey, type ApiPortal } from './print-api-helpers.js';

const debit = (units: number, reference: string, key = newIdempotencyKey()) => ({
  method: 'POST' as const,
  path: '/accounts/alice/debits',
  headers: { 'Idempotency-Key': key },
  body: { category: 'print', units, reference },
});

interface QueuedNotice {
  send_key: string;
  recipient: string;
  locale: string;
  notice_params: string;
}

describe(`low-balance alerts: one mail per crossing, queued with the debit (${testDialect})`, function () {
  this.timeout(30_000);
  let api: ApiPortal;
  let alice: { accountId: number };
  const context = apiPortalPerTest();
  beforeEach(() => ({ api, alice } = context));

  const alerts = () => createLowBalanceAlerts({ db: api.portal.db, clock: api.portal.clock });
  const aliceId = async () => Number((await api.portal.db.knex('users').where('username', 'alice').first('id')).id);
  const notices = (): Promise<QueuedNotice[]> =>
    api.portal.db.knex('mail_outbox').where('notice_kind', 'low_balance.crossed').orderBy('id').select('send_key', 'recipient', 'locale', 'notice_params');
  /** The ledger transaction whose posting left alice's balance at `balanceAfter`. */
  const transactionLeaving = async (balanceAfter: number) =>
    Number((await api.portal.db.knex('ledger_entries').where({ account_id: alice.accountId, balance_after: balanceAfter }).first('transaction_id')).transaction_id);
  let topUps = 0;
  const topUp = async (hundredths: number) => {
    const source = await getAccountByCode(api.portal.db.knex, SystemAccount.topUps);
    topUps += 1;
    await api.portal.ledger.post({ idempotencyKey: `test-refill:${topUps}`, kind: 'top_up', lines: [{ accountId: alice.accountId, amount: hundredths }, { accountId: source.id, amount: -hundredths }] });
  };

  it('queues exactly one mail when 20 concurrent debits take the balance across the threshold, and none for their replays', async () => {
    await alerts().choose(await aliceId(), '5', 'fr');
    const calls = Array.from({ length: 20 }, (_unused, job) => debit(0.5, `rush-${job}`));
    const answers = await Promise.all(calls.map((call) => api.api(call)));
    expect(answers.map((answer) => answer.status)).to.deep.equal(calls.map(() => 201));
    expect(await api.balanceOf(alice.accountId)).to.equal(0);

    const queued = await notices();
    expect(queued).to.have.length(1);
    // The debit that went from 5,00 to 4,50 is the crossing: the mail is keyed by its transaction.
    expect(queued[0]!.send_key).to.equal(`low-balance:${await transactionLeaving(450)}:${alice.accountId}`);
    expect(JSON.parse(queued[0]!.notice_params)).to.deep.equal({ balance: 450, threshold: 500 });
    expect(queued[0]).to.include({ recipient: 'alice@example.edu', locale: 'fr' });

    // Each answer says whether the balance it left is below the threshold.
    for (const answer of answers) {
      const account = (answer.body as { account: { balance: number; balanceLow: boolean } }).account;
      expect(account.balanceLow, String(account.balance)).to.equal(account.balance < 5);
    }

    const replays = await Promise.all(calls.map((call) => api.api(call)));
    expect(replays.map((answer) => answer.headers['idempotent-replayed'])).to.deep.equal(calls.map(() => 'true'));
    expect(await notices()).to.have.length(1);
  });

  it('alerts once per crossing: not for debits while below, again after a top-up brought the balance back to the threshold', async () => {
    await alerts().choose(await aliceId(), '5', 'en');
    expect((await api.api(debit(5, 'to-the-threshold'))).status).to.equal(201);
    expect(await notices(), 'at the threshold is not below it').to.have.length(0);
    expect((await api.api(debit(0.01, 'across'))).status).to.equal(201);
    expect(await notices()).to.have.length(1);
    expect((await api.api(debit(1, 'while-below'))).status).to.equal(201);
    expect(await notices(), 'already below').to.have.length(1);

    await topUp(100); // 3,99 → 4,99: still below, not re-armed
    expect((await api.api(debit(0.5, 'still-below'))).status).to.equal(201);
    expect(await notices()).to.have.length(1);

    await topUp(51); // 4,49 → 5,00: re-armed
    expect((await api.api(debit(0.25, 'across-again'))).status).to.equal(201);
    const queued = await notices();
    expect(queued).to.have.length(2);
    expect(queued[1]!.send_key).to.equal(`low-balance:${await transactionLeaving(475)}:${alice.accountId}`);
    expect(queued[1]!.locale, 'the language the alert was set in').to.equal('en');
  });

  it('sends nothing without an alert, nor once it is turned off', async () => {
    expect((await api.api(debit(6, 'no-alert'))).status).to.equal(201);
    await topUp(600);
    const userId = await aliceId();
    await alerts().choose(userId, '5', 'fr');
    expect(await alerts().turnOff(userId)).to.equal(true);
    expect((await api.api(debit(6, 'turned-off'))).status).to.equal(201);
    expect(await notices()).to.have.length(0);
    expect(await alerts().turnOff(userId)).to.equal(false);
  });

  it('sends nothing to a closed account that a job printed before still debits', async () => {
    await alerts().choose(await aliceId(), '5', 'fr');
    await api.portal.db.knex('users').where('username', 'alice').update({ closed_at: api.portal.clock.now().toISOString(), disabled: true });
    const printed = { ...debit(6, 'printed-before'), body: { category: 'print', units: 6, reference: 'printed-before', afterPrinting: true } };
    expect((await api.api(printed)).status).to.equal(201);
    expect(await api.balanceOf(alice.accountId)).to.equal(400);
    expect(await notices()).to.have.length(0);
  });

  it('alerts on an admin\'s debit and on a quote paid in units, not on a refund\'s take-back', async () => {
    const userId = await aliceId();
    await alerts().choose(userId, '8', 'fr');
    const admin = await api.portal.addUser('gestion', 'gestion-password-123', { role: 'admin' });
    const adjustments = createAdjustments({ db: api.portal.db, clock: api.portal.clock });
    await adjustments.adjust(admin, 'alice', { direction: 'debit', amount: '2,50', reason: 'Impression perdue', nonce: newFormNonce() });
    expect(await notices()).to.have.length(1);

    await topUp(250);
    const quotePayments = await getAccountByCode(api.portal.db.knex, SystemAccount.quotePayments);
    await api.portal.ledger.post({ idempotencyKey: 'test-quote-units', kind: 'quote_payment', lines: [{ accountId: alice.accountId, amount: -300 }, { accountId: quotePayments.id, amount: 300 }] });
    expect(await notices()).to.have.length(2);

    await topUp(300);
    const topUps = await getAccountByCode(api.portal.db.knex, SystemAccount.topUps);
    await api.portal.ledger.post({ idempotencyKey: 'test-take-back', kind: 'reversal', lines: [{ accountId: alice.accountId, amount: -500 }, { accountId: topUps.id, amount: 500 }] });
    expect(await api.balanceOf(alice.accountId)).to.equal(500);
    expect(await notices(), 'a take-back is no spending').to.have.length(2);
  });

  it('writes the mail in the person\'s language with a one-click link to the top-up page, and delivers it once', async () => {
    await api.portal.db.knex('users').where('username', 'alice').update({ locale: 'en' });
    await alerts().choose(await aliceId(), '9,50', 'fr');
    expect((await api.api(debit(1, 'crossing'))).status).to.equal(201);
    const [queued] = await notices();
    const mail = await api.portal.db.knex('mail_outbox').where('send_key', queued!.send_key).first('id');
    const stored = await findMail(api.portal.db.knex, Number(mail.id));
    const preview = await api.portal.outboxMails.preview(stored!);
    expect(preview.subject).to.equal('Low balance: 9.00 units left');
    expect(preview.text).to.include('below the threshold you chose (9.50 units): you have 9.00 units left.');
    expect(preview.text).to.include(`${api.portal.config.server.publicUrl}/topup\n`);
    expect(preview.text).to.include(`${api.portal.config.server.publicUrl}/account/low-balance-alert`);

    await api.portal.mail.deliverDue();
    await api.portal.mail.deliverDue();
    expect((await findMail(api.portal.db.knex, Number(mail.id)))?.status).to.equal('kept');
    expect(await notices()).to.have.length(1);
  });

  it('costs a debit no statement more with or without an alert; a crossing two (the address, the mail)', async () => {
    // The key's first use is recorded now; the clock stands still, so no debit below records it again.
    expect((await api.api({ method: 'GET', path: '/accounts/alice' })).status).to.equal(200);
    const statementsOf = async (units: number, reference: string) => {
      const { result, count } = await countStatements(api.portal.db, () => api.api(debit(units, reference)));
      expect(result.status).to.equal(201);
      return count;
    };
    const withoutAlert = await statementsOf(1, 'no-alert');
    // As print-api-statements.test.ts counts a debit: the threshold comes with the balance's update.
    expect(withoutAlert).to.equal(12);
    await alerts().choose(await aliceId(), '5', 'fr');
    expect(await statementsOf(1, 'above')).to.equal(withoutAlert);
    expect(await statementsOf(3.5, 'crossing')).to.equal(withoutAlert + 2);
    expect(await statementsOf(1, 'below')).to.equal(withoutAlert);
  });

  it('tells print servers whether the balance is below the threshold when the account is read', async () => {
    const read = async () => (await api.api({ method: 'GET', path: '/accounts/alice' })).body as { balanceLow: boolean };
    expect((await read()).balanceLow, 'no alert').to.equal(false);
    await alerts().choose(await aliceId(), '10', 'fr');
    expect((await read()).balanceLow, 'at the threshold').to.equal(false);
    await alerts().choose(await aliceId(), '10,01', 'fr');
    expect((await read()).balanceLow, 'below').to.equal(true);
  });
});
