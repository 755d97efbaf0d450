import { expect } from 'chai';
import supertest from 'supertest';
import { createApiKeyManagement } from '../../src/services/print-api/api-key-management.js';
import { logIn } from '../helpers/portal.js';
import { apiPortalPerTest, newIdempotencyKey, type ApiPortal } from './print-api-helpers.js';

const debit = (body: unknown, key: string | null = newIdempotencyKey(), extra: Record<string, string> = {}) => ({
  method: 'POST' as const,
  path: '/accounts/alice/debits',
  headers: { ...(key === null ? {} : { 'Idempotency-Key': key }), ...extra },
  body,
});

describe('Print-server API v1', function () {
  this.timeout(20_000);
  let api: ApiPortal;
  let alice: { accountId: number };
  const context = apiPortalPerTest();
  beforeEach(() => ({ api, alice } = context));

  describe('authentication', () => {
    it('refuses a request without a key, with a malformed key or an unknown key, as problem+json with WWW-Authenticate', async () => {
      for (const authorization of [undefined, 'Basic abc', 'Bearer short', `Bearer rk_${'A'.repeat(43)}`]) {
        const answer = await api.contract.call(api.portal.baseUrl, {
          method: 'GET',
          path: '/accounts/alice',
          headers: authorization ? { Authorization: authorization } : {},
          conforms: authorization?.startsWith('Bearer ') ?? false,
        });
        expect(answer.status, String(authorization)).to.equal(401);
        expect(answer.headers['www-authenticate']).to.equal('Bearer realm="recharge-api"');
        expect(answer.body).to.include({ status: 401, title: 'Clé d\'API refusée' });
      }
    });

    it('refuses a revoked key on every operation, and records when a key was last used', async () => {
      const admin = await api.portal.addUser('root', 'root-password-123', { role: 'admin' });
      expect((await api.portal.db.knex('api_keys').where('id', api.keyId).first()).last_used_at).to.equal(null);
      expect((await api.api({ method: 'GET', path: '/accounts/alice' })).status).to.equal(200);
      const lastUsed = (await api.portal.db.knex('api_keys').where('id', api.keyId).first()).last_used_at;
      expect(new Date(lastUsed).toISOString()).to.equal(api.portal.clock.now().toISOString());

      await createApiKeyManagement({ db: api.portal.db, clock: api.portal.clock }).revoke(api.keyId, admin);
      const before = await api.counts();
      for (const call of [
        { method: 'GET' as const, path: '/accounts/alice' },
        debit({ category: 'print', units: 1, reference: 'job-1' }),
        { method: 'GET' as const, path: '/accounts/alice/debits/job-1' },
        { method: 'POST' as const, path: '/accounts/alice/debits/job-1/cancel' },
        { method: 'GET' as const, path: '/accounts/alice/transactions' },
      ]) {
        expect((await api.api(call)).status, call.path).to.equal(401);
      }
      expect(await api.counts()).to.deep.equal(before);
      expect(await api.balanceOf(alice.accountId)).to.equal(1000);
    });

    it('does not take a signed-in browser for a print server: a session cookie opens nothing', async () => {
      await api.portal.addUser('root', 'root-password-123', { role: 'admin' });
      const browser = supertest.agent(api.portal.app);
      expect((await logIn(browser, 'root', 'root-password-123')).status).to.equal(303);
      expect((await browser.get('/api/v1/accounts/alice')).status).to.equal(401);
      const before = await api.counts();
      const forged = await browser.post('/api/v1/accounts/alice/debits').set('Idempotency-Key', 'from-a-browser').send({ category: 'print', units: 1, reference: 'b' });
      expect(forged.status).to.equal(401);
      expect(await api.counts()).to.deep.equal(before);
    });

    it('serves the OpenAPI document and the problem types without a key', async () => {
      const problem = await api.contract.call(api.portal.baseUrl, { method: 'GET', path: '/problems/insufficient-balance', headers: { 'Accept-Language': 'en' } });
      expect(problem.status).to.equal(200);
      expect(problem.body).to.include({ title: 'Insufficient balance', status: 402 });
      expect((await api.contract.call(api.portal.baseUrl, { method: 'GET', path: '/problems/nothing-like-this' })).status).to.equal(404);
    });
  });

  describe('reading an account', () => {
    it('gives the balance in units and the status', async () => {
      await api.person('bob', 0, { disabled: true });
      expect((await api.api({ method: 'GET', path: '/accounts/alice' })).body).to.deep.equal({
        username: 'alice',
        displayName: 'Name of alice',
        status: 'active',
        balance: 10,
        allowNegative: false,
        balanceLow: false,
      });
      expect((await api.api({ method: 'GET', path: '/accounts/BOB' })).body).to.include({ username: 'bob', status: 'disabled', balance: 0 });
    });

    it('answers an unknown person and an unknown address with a problem in the reader’s language', async () => {
      const french = await api.api({ method: 'GET', path: '/accounts/nobody' });
      expect(french.status).to.equal(404);
      expect(french.headers['content-language']).to.equal('fr');
      expect(french.body).to.include({ title: 'Compte introuvable', detail: 'Aucun compte ne porte l\'identifiant nobody.', instance: '/api/v1/accounts/nobody' });
      expect((french.body as { type: string }).type).to.equal(`${api.portal.config.server.publicUrl}/api/v1/problems/account-not-found`);
      const english = await api.api({ method: 'GET', path: '/accounts/nobody', headers: { 'Accept-Language': 'en-GB,en;q=0.8' } });
      expect(english.body).to.include({ title: 'Account not found' });
      const unknown = await api.api({ method: 'GET', path: '/nothing/here', conforms: false });
      expect(unknown.status).to.equal(404);
      expect(unknown.headers['cache-control']).to.equal('no-store');
    });
  });

  describe('debiting usage', () => {
    it('debits a job once: 201, the balance, the ledger and the job row', async () => {
      const answer = await api.api(debit({ category: 'copy', units: 1.25, pages: 25, reference: 'copieur-2:4711' }));
      expect(answer.status).to.equal(201);
      expect(answer.body).to.deep.include({ reference: 'copieur-2:4711', category: 'copy', units: 1.25, pages: 25, status: 'debited', cancelledAt: null, account: { username: 'alice', balance: 8.75, balanceLow: false } });
      expect(await api.balanceOf(alice.accountId)).to.equal(875);
      const [row] = await api.portal.db.knex('usage_debits').select();
      expect(row).to.include({ category: 'copy', pages: 25, reference: 'copieur-2:4711' });
      expect(Number(row.amount)).to.equal(125);
      const usage = await api.portal.db.knex('ledger_entries as entry').join('accounts', 'accounts.id', 'entry.account_id').where('entry.transaction_id', row.transaction_id).select('accounts.code', 'entry.amount');
      expect(usage.map((entry) => [entry.code, Number(entry.amount)])).to.have.deep.members([
        ['user:' + String((await api.portal.db.knex('accounts').where('id', alice.accountId).first()).user_id), -125],
        ['system:usage:copy', 125],
      ]);
    });

    it('replays the same key and body: the same status and body, no second debit, whatever the JSON spacing or key order', async () => {
      const key = newIdempotencyKey();
      const first = await api.api(debit({ category: 'print', units: 0.3, pages: 3, reference: 'job-7' }, key));
      const after = await api.counts();
      const again = await api.api(debit({ category: 'print', units: 0.3, pages: 3, reference: 'job-7' }, key));
      const reordered = await api.api(debit('{ "reference": "job-7",  "pages": 3, "units": 0.3, "category": "print" }', `"${key}"`, { 'Content-Type': 'application/json' }));
      for (const replay of [again, reordered]) {
        expect(replay.status).to.equal(201);
        expect(replay.text).to.equal(first.text);
        expect(replay.headers['idempotent-replayed']).to.equal('true');
      }
      expect(first.headers['idempotent-replayed']).to.equal(undefined);
      expect(await api.counts()).to.deep.equal(after);
      expect(await api.balanceOf(alice.accountId)).to.equal(970);
    });

    it('refuses the same key with another body or another account (422), and records nothing more', async () => {
      await api.person('bob', 500);
      const key = newIdempotencyKey();
      expect((await api.api(debit({ category: 'print', units: 1, reference: 'job-8' }, key))).status).to.equal(201);
      const after = await api.counts();
      const otherBody = await api.api(debit({ category: 'print', units: 2, reference: 'job-8' }, key));
      expect(otherBody.status).to.equal(422);
      expect(otherBody.body).to.include({ title: 'Clé d\'idempotence déjà utilisée' });
      const otherAccount = await api.api({ ...debit({ category: 'print', units: 1, reference: 'job-8' }, key), path: '/accounts/bob/debits' });
      expect(otherAccount.status).to.equal(422);
      expect(await api.counts()).to.deep.equal(after);
      expect(await api.balanceOf(alice.accountId)).to.equal(900);
    });

    it('scopes keys to the print server: another key may use the same Idempotency-Key and reference', async () => {
      const other = await api.newKey();
      const key = newIdempotencyKey();
      const body = { category: 'scan', units: 0.1, reference: 'scan-1' };
      expect((await api.api(debit(body, key))).status).to.equal(201);
      const second = await api.contract.call(api.portal.baseUrl, { ...debit(body, key), headers: { 'Idempotency-Key': key, Authorization: `Bearer ${other.secret}` } });
      expect(second.status).to.equal(201);
      expect(second.headers['idempotent-replayed']).to.equal(undefined);
      expect(await api.balanceOf(alice.accountId)).to.equal(980);
    });

    it('refuses a request without an Idempotency-Key, or with a malformed one (400), and records nothing', async () => {
      const before = await api.counts();
      for (const key of [null, '', 'a b', 'é', 'k'.repeat(256)]) {
        const answer = await api.api({ ...debit({ category: 'print', units: 1, reference: 'job-9' }, key), conforms: key !== null && key !== '' && key.length <= 257 });
        expect(answer.status, String(key)).to.equal(400);
        expect(answer.body).to.include({ title: 'En-tête Idempotency-Key requis' });
      }
      expect(await api.counts()).to.deep.equal(before);
    });

    it('refuses a debit beyond the balance with 402, saved and replayed even after a top-up', async () => {
      const key = newIdempotencyKey();
      const refused = await api.api(debit({ category: 'print', units: 10.01, reference: 'big-job' }, key));
      expect(refused.status).to.equal(402);
      expect(refused.body).to.include({ title: 'Crédit insuffisant' });
      expect(await api.balanceOf(alice.accountId)).to.equal(1000);
      expect((await api.counts()).debits).to.equal(0);
      await api.person('bob', 0);
      const replay = await api.api(debit({ category: 'print', units: 10.01, reference: 'big-job' }, key));
      expect(replay.status).to.equal(402);
      expect(replay.text).to.equal(refused.text);
      expect((await api.api(debit({ category: 'print', units: 10, reference: 'big-job' }))).status).to.equal(201);
      expect(await api.balanceOf(alice.accountId)).to.equal(0);
    });

    it('lets an account that may go negative go below zero', async () => {
      const staff = await api.person('staff', 100, { allowNegative: true });
      const answer = await api.api({ ...debit({ category: 'print', units: 3, reference: 'staff-job' }), path: '/accounts/staff/debits' });
      expect(answer.status).to.equal(201);
      expect(answer.body).to.deep.include({ account: { username: 'staff', balance: -2, balanceLow: false } });
      expect(await api.balanceOf(staff.accountId)).to.equal(-200);
    });

    it('refuses to debit a disabled account (403) or an unknown one (404)', async () => {
      await api.person('gone', 500, { disabled: true });
      const before = await api.counts();
      const disabled = await api.api({ ...debit({ category: 'print', units: 1, reference: 'j' }), path: '/accounts/gone/debits' });
      expect(disabled.status).to.equal(403);
      expect(disabled.body).to.include({ detail: 'Le compte de gone est désactivé : il ne peut pas être débité.' });
      const unknown = await api.api({ ...debit({ category: 'print', units: 1, reference: 'j' }), path: '/accounts/nobody/debits' });
      expect(unknown.status).to.equal(404);
      // The answers are saved for their keys; nothing else is written.
      expect(await api.counts()).to.deep.equal({ ...before, idempotencyKeys: before.idempotencyKeys + 2 });
    });

    it('refuses a second debit of the same reference under another key (409)', async () => {
      expect((await api.api(debit({ category: 'fax', units: 0.5, reference: 'fax-1' }))).status).to.equal(201);
      const again = await api.api(debit({ category: 'fax', units: 0.5, reference: 'fax-1' }));
      expect(again.status).to.equal(409);
      expect(again.body).to.include({ title: 'Référence déjà débitée' });
      expect(await api.balanceOf(alice.accountId)).to.equal(950);
    });
  });

  describe('cancelling and reading debits', () => {
    it('cancels a job with a reversing transaction, once, however often it is asked', async () => {
      await api.api(debit({ category: 'print', units: 2.4, pages: 24, reference: 'job-c' }));
      const shown = await api.api({ method: 'GET', path: '/accounts/alice/debits/job-c' });
      expect(shown.body).to.include({ status: 'debited', units: 2.4 });
      const cancelled = await api.api({ method: 'POST', path: '/accounts/alice/debits/job-c/cancel' });
      expect(cancelled.status).to.equal(200);
      expect(cancelled.body).to.deep.include({ status: 'cancelled', account: { username: 'alice', balance: 10, balanceLow: false } });
      const again = await api.api({ method: 'POST', path: '/accounts/alice/debits/job-c/cancel' });
      expect(again.body).to.deep.equal(cancelled.body);
      expect(await api.balanceOf(alice.accountId)).to.equal(1000);
      const reversals = await api.portal.db.knex('ledger_transactions').where('kind', 'reversal').select('reverses_transaction_id');
      expect(reversals).to.have.length(1);
      // The original stays: the ledger is append-only.
      expect(await api.portal.db.knex('ledger_transactions').where('kind', 'usage').select('id')).to.have.length(1);
    });

    it('finds only the debits this key made on this account', async () => {
      await api.person('bob', 500);
      await api.api(debit({ category: 'print', units: 1, reference: 'mine' }));
      const other = await api.newKey();
      const asOther = (path: string, method: 'GET' | 'POST') => api.contract.call(api.portal.baseUrl, { method, path, headers: { Authorization: `Bearer ${other.secret}` } });
      expect((await asOther('/accounts/alice/debits/mine', 'GET')).status).to.equal(404);
      expect((await asOther('/accounts/alice/debits/mine/cancel', 'POST')).status).to.equal(404);
      expect((await api.api({ method: 'POST', path: '/accounts/bob/debits/mine/cancel' })).status).to.equal(404);
      const missing = await api.api({ method: 'GET', path: '/accounts/alice/debits/never' });
      expect(missing.body).to.include({ detail: 'Cette clé d\'API n\'a débité aucun travail de référence never sur ce compte.' });
      expect(await api.balanceOf(alice.accountId)).to.equal(900);
    });
  });

  describe('listing transactions', () => {
    it('pages through every entry once, newest first, following `next`', async () => {
      for (let job = 1; job <= 4; job += 1) await api.api(debit({ category: 'print', units: job / 10, pages: job, reference: `job-${job}` }));
      await api.api({ method: 'POST', path: '/accounts/alice/debits/job-2/cancel' });
      const seen: Array<Record<string, unknown>> = [];
      let next: string | null = '/accounts/alice/transactions?limit=2';
      while (next) {
        const page = await api.api({ method: 'GET', path: next });
        expect(page.status).to.equal(200);
        const body = page.body as { items: Array<Record<string, unknown>>; next: string | null };
        expect(body.items.length).to.be.at.most(2);
        seen.push(...body.items);
        next = body.next?.replace('/api/v1', '') ?? null;
      }
      expect(seen.map((item) => [item.kind, item.category, item.units, item.reference])).to.deep.equal([
        ['reversal', 'print', 0.2, 'job-2'],
        ['usage', 'print', -0.4, 'job-4'],
        ['usage', 'print', -0.3, 'job-3'],
        ['usage', 'print', -0.2, 'job-2'],
        ['usage', 'print', -0.1, 'job-1'],
        ['top_up', null, 10, null],
      ]);
      expect(seen[0]).to.include({ balanceAfter: 9.2 });
    });

    it('refuses bad paging values (400) and unknown people (404)', async () => {
      for (const query of ['limit=0', 'limit=101', 'limit=x', 'before=-1', 'before=1.5', 'page=2']) {
        const answer = await api.api({ method: 'GET', path: `/accounts/alice/transactions?${query}`, conforms: false });
        expect(answer.status, query).to.equal(400);
        expect((answer.body as { errors: unknown[] }).errors, query).to.have.length.greaterThan(0);
      }
      expect((await api.api({ method: 'GET', path: '/accounts/nobody/transactions' })).status).to.equal(404);
    });
  });
});
