import { expect } from 'chai';
import { readActivity } from '../../src/db/ledger/account-activity-repository.js';
import { ALL_TIME } from '../../src/domain/ledger/account-activity.js';
import { testDialect } from '../helpers/database.js';
import { apiPortalPerTest, newIdempotencyKey, type ApiPortal } from './print-api-helpers.js';

const debit = (body: unknown, { key = newIdempotencyKey(), username = 'alice' } = {}) => ({
  method: 'POST' as const,
  path: `/accounts/${username}/debits`,
  headers: { 'Idempotency-Key': key },
  body,
});
const refusal = (body: unknown, username = 'alice') => ({ method: 'POST' as const, path: `/accounts/${username}/refusals`, body });

const job = { category: 'print', units: 1.5, pages: 15, printer: 'print1/b112', colour: true, duplex: false };
const refused = { category: 'print', units: 2.4, pages: 24, printer: 'print1/b112', colour: false, duplex: true, reason: 'insufficient-balance', balance: 0.35, reference: 'print1:b112:42' };

describe(`Print-server API v1: jobs from a print server (${testDialect})`, function () {
  this.timeout(20_000);
  let api: ApiPortal;
  let alice: { accountId: number };
  const context = apiPortalPerTest();
  beforeEach(() => ({ api, alice } = context));

  const refusalCount = async () => Number((await api.portal.db.knex('usage_refusals').count({ total: '*' }).first())?.total ?? 0);

  describe('a debit’s printer, colour and duplex', () => {
    it('stores them and gives them back when debited, read, cancelled and replayed', async () => {
      const key = newIdempotencyKey();
      const created = await api.api(debit({ ...job, reference: 'print1:b112:7' }, { key }));
      expect(created.status).to.equal(201);
      expect(created.body).to.include({ printer: 'print1/b112', colour: true, duplex: false });
      const [row] = await api.portal.db.knex('usage_debits').select('printer', 'colour', 'duplex');
      expect({ ...row, colour: Boolean(row.colour), duplex: Boolean(row.duplex) }).to.deep.equal({ printer: 'print1/b112', colour: true, duplex: false });

      const replayed = await api.api(debit({ ...job, reference: 'print1:b112:7' }, { key }));
      expect(replayed.text).to.equal(created.text);
      const read = await api.api({ method: 'GET', path: '/accounts/alice/debits/print1:b112:7' });
      expect(read.body).to.include({ printer: 'print1/b112', colour: true, duplex: false });
      const cancelled = await api.api({ method: 'POST', path: '/accounts/alice/debits/print1:b112:7/cancel' });
      expect(cancelled.body).to.include({ status: 'cancelled', printer: 'print1/b112', colour: true, duplex: false });
    });

    it('gives null for a debit that did not say, as for those made before', async () => {
      expect((await api.api(debit({ category: 'copy', units: 1, reference: 'old-job' }))).body).to.include({ printer: null, colour: null, duplex: null });
      expect((await api.api({ method: 'GET', path: '/accounts/alice/debits/old-job' })).body).to.include({ printer: null, colour: null, duplex: null });
    });
  });

  describe('a debit after printing', () => {
    it('takes a job beyond the balance of an account that may not go negative, which the same debit before printing may not', async () => {
      const before = await api.counts();
      const beforePrinting = await api.api(debit({ ...job, units: 12, reference: 'print1:b112:8' }));
      expect(beforePrinting.status).to.equal(402);
      expect((beforePrinting.body as { type: string }).type).to.match(/\/problems\/insufficient-balance$/);
      expect(await api.counts()).to.deep.equal({ ...before, idempotencyKeys: before.idempotencyKeys + 1 });

      const afterPrinting = await api.api(debit({ ...job, units: 12, reference: 'print1:b112:8', afterPrinting: true }));
      expect(afterPrinting.status).to.equal(201);
      expect(afterPrinting.body).to.deep.include({ units: 12, status: 'debited', account: { username: 'alice', balance: -2, balanceLow: false } });
      expect(await api.balanceOf(alice.accountId)).to.equal(-200);
      // The account page's usage counts it like any job (and the ledger check after each test agrees).
      const usage = await readActivity(api.portal.db.knex, alice.accountId, ['print'], [{ span: ALL_TIME, from: 0, until: 1 }]);
      expect(usage.get('print')).to.deep.equal({ entries: 1, usedUnits: 1200 });
    });

    it('takes a job from a disabled account, still not from an unknown one', async () => {
      const gone = await api.person('gone', 100, { disabled: true });
      const taken = await api.api(debit({ ...job, reference: 'print1:b112:9', afterPrinting: true }, { username: 'gone' }));
      expect(taken.status).to.equal(201);
      expect(await api.balanceOf(gone.accountId)).to.equal(-50);
      const unknown = await api.api(debit({ ...job, reference: 'print1:b112:10', afterPrinting: true }, { username: 'nobody' }));
      expect(unknown.status).to.equal(404);
      expect((await api.counts()).debits).to.equal(1);
    });

    it('debits a job retried by the print server once, with its key or with another', async () => {
      const key = newIdempotencyKey();
      const body = { ...job, units: 11, reference: 'print1:b112:11', afterPrinting: true };
      const first = await api.api(debit(body, { key }));
      expect(first.status).to.equal(201);
      const again = await api.api(debit(body, { key }));
      expect(again.headers['idempotent-replayed']).to.equal('true');
      expect(again.text).to.equal(first.text);
      const otherKey = await api.api(debit(body));
      expect(otherKey.status).to.equal(409);
      expect((otherKey.body as { type: string }).type).to.match(/\/problems\/reference-in-use$/);
      expect(await api.balanceOf(alice.accountId)).to.equal(-100);
      expect((await api.counts()).debits).to.equal(1);
      expect(await api.portal.db.knex('ledger_transactions').where('kind', 'usage').select('id')).to.have.length(1);
    });
  });

  describe('refusals', () => {
    it('records a refused job once: 201, then 200 with the refusal recorded first, and nothing in the ledger', async () => {
      const before = await api.counts();
      const first = await api.api(refusal(refused));
      expect(first.status).to.equal(201);
      expect(first.body).to.deep.equal({
        reference: 'print1:b112:42',
        category: 'print',
        units: 2.4,
        reason: 'insufficient-balance',
        pages: 24,
        printer: 'print1/b112',
        colour: false,
        duplex: true,
        balance: 0.35,
        createdAt: api.portal.clock.now().toISOString(),
        account: { username: 'alice' },
      });
      api.portal.clock.advance(60_000);
      const again = await api.api(refusal({ ...refused, units: 9, reason: 'account-disabled', balance: -3 }));
      expect(again.status).to.equal(200);
      expect(again.body).to.deep.equal(first.body);

      const rows = await api.portal.db.knex('usage_refusals').select();
      expect(rows).to.have.length(1);
      expect(rows[0]).to.include({ api_key_id: api.keyId, account_id: alice.accountId, reason: 'insufficient_balance', printer: 'print1/b112', reference: 'print1:b112:42' });
      expect([Number(rows[0].amount), Number(rows[0].balance_seen)]).to.deep.equal([240, 35]);
      expect(await api.counts()).to.deep.equal(before);
      expect(await api.balanceOf(alice.accountId)).to.equal(1000);
    });

    it('records the least a print server may say, a negative balance seen, a disabled account', async () => {
      await api.person('gone', 0, { disabled: true });
      const least = await api.api(refusal({ category: 'copy', units: 0.01, reason: 'account-disabled', reference: 'copier:1' }, 'GONE'));
      expect(least.status).to.equal(201);
      expect(least.body).to.deep.include({ reason: 'account-disabled', pages: null, printer: null, colour: null, duplex: null, balance: null, account: { username: 'gone' } });
      const negative = await api.api(refusal({ ...refused, reference: 'print1:b112:43', balance: -12.5 }));
      expect(negative.body).to.include({ balance: -12.5 });
      expect(Number((await api.portal.db.knex('usage_refusals').where('reference', 'print1:b112:43').first()).balance_seen)).to.equal(-1250);
    });

    it('keeps refusals apart from debits and from other keys: the same reference is a new refusal there', async () => {
      expect((await api.api(debit({ ...job, reference: 'print1:b112:42' }))).status).to.equal(201);
      expect((await api.api(refusal(refused))).status).to.equal(201);
      const other = await api.newKey();
      const byOther = await api.contract.call(api.portal.baseUrl, { ...refusal(refused), headers: { Authorization: `Bearer ${other.secret}` } });
      expect(byOther.status).to.equal(201);
      expect(await refusalCount()).to.equal(2);
      expect(await api.balanceOf(alice.accountId)).to.equal(850);
    });

    it('refuses an unknown account (404) and records nothing', async () => {
      const unknown = await api.api(refusal(refused, 'nobody'));
      expect(unknown.status).to.equal(404);
      expect((unknown.body as { type: string }).type).to.match(/\/problems\/account-not-found$/);
      expect(await refusalCount()).to.equal(0);
    });
  });

  describe('bad bodies', () => {
    const BAD_JOB_FIELDS: Array<[string, Record<string, unknown>, string]> = [
      ['a printer with a control character', { printer: 'b112\u0007' }, '/printer'],
      ['a printer with a line break', { printer: 'b112\nforged line' }, '/printer'],
      ['a printer beyond ASCII', { printer: 'imprimante-é' }, '/printer'],
      ['an empty printer', { printer: '' }, '/printer'],
      ['a printer of spaces', { printer: '   ' }, '/printer'],
      ['a printer with a space at its end', { printer: 'b112 ' }, '/printer'],
      ['a printer of 101 characters', { printer: 'p'.repeat(101) }, '/printer'],
      ['a printer as a number', { printer: 112 }, '/printer'],
      ['colour as a string', { colour: 'true' }, '/colour'],
      ['duplex as a number', { duplex: 1 }, '/duplex'],
      ['thousandths', { units: 0.001 }, '/units'],
      ['an unknown field', { copies: 2 }, '/copies'],
    ];

    it('refuses a debit with a bad field (400) and records nothing', async () => {
      const before = await api.counts();
      const cases: Array<[string, Record<string, unknown>, string]> = [...BAD_JOB_FIELDS, ['afterPrinting as a string', { afterPrinting: 'yes' }, '/afterPrinting']];
      for (const [what, field, pointer] of cases) {
        const answer = await api.api({ ...debit({ ...job, reference: 'bad', ...field }), conforms: false });
        expect(answer.status, what).to.equal(400);
        expect((answer.body as { errors: Array<{ pointer: string }> }).errors.map((error) => error.pointer), what).to.include(pointer);
      }
      expect(await api.counts()).to.deep.equal(before);
    });

    it('refuses a refusal with a bad field (400), a body that is not JSON (415) or too large (413), and records nothing', async () => {
      const before = await api.counts();
      const cases: Array<[string, Record<string, unknown>, string]> = [
        ...BAD_JOB_FIELDS,
        ['an unknown reason', { reason: 'no-paper' }, '/reason'],
        ['a reason as stored', { reason: 'insufficient_balance' }, '/reason'],
        ['no reason', { reason: undefined }, '/reason'],
        ['zero units', { units: 0 }, '/units'],
        ['a balance in thousandths', { balance: -0.001 }, '/balance'],
        ['a balance as a string', { balance: '0.35' }, '/balance'],
        ['a reference with a space', { reference: 'job 1' }, '/reference'],
        ['an Idempotency-Key in the body', { idempotencyKey: 'x' }, '/idempotencyKey'],
      ];
      for (const [what, field, pointer] of cases) {
        const answer = await api.api({ ...refusal({ ...refused, ...field }), conforms: false });
        expect(answer.status, what).to.equal(400);
        expect((answer.body as { errors: Array<{ pointer: string }> }).errors.map((error) => error.pointer), what).to.include(pointer);
      }
      const text = await api.api({ ...refusal('reason=insufficient-balance'), headers: { 'Content-Type': 'text/plain' }, conforms: false });
      expect(text.status).to.equal(415);
      const large = await api.api({ ...refusal({ ...refused, padding: 'x'.repeat(9000) }), conforms: false });
      expect(large.status).to.equal(413);
      const truncated = await api.api({ ...refusal('{"reason":'), headers: { 'Content-Type': 'application/json' }, conforms: false });
      expect(truncated.status).to.equal(400);
      expect(await refusalCount()).to.equal(0);
      expect(await api.counts()).to.deep.equal(before);
    });
  });
});
