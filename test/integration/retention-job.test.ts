import { Readable } from 'node:stream';
import { expect } from 'chai';
import pino from 'pino';
import { runCli } from '../../src/cli/run.js';
import { retentionJobDeps } from '../../src/cli/retention.js';
import { createRetentionJob } from '../../src/services/retention/retention-job.js';
import { expectLedgerConsistent, testDialect } from '../helpers/database.js';
import { orderSentToPayPal, pathOf, useShop, type Shop } from '../helpers/topup.js';

const DAY_MS = 24 * 3600_000;

describe(`retention job (${testDialect})`, () => {
  let shop: Shop;
  useShop((opened) => (shop = opened));

  const knex = () => shop.portal.db.knex;
  const job = () => createRetentionJob(retentionJobDeps(shop.portal.config, shop.portal.db, shop.portal.clock, pino({ level: 'silent' })));
  const ago = (days: number) => new Date(shop.portal.clock.now().getTime() - days * DAY_MS);
  const iso = (days: number) => ago(days).toISOString();
  const OLD = 3 * 365;
  const RECENT = 1;

  /** A top-up paid through PayPal: a paid order, its ledger posting, its receipt and the receipt's mail. */
  async function paidOrder(): Promise<number> {
    const { number, paypalOrderId } = await orderSentToPayPal(shop);
    await shop.agent.get(pathOf(shop.portal.simulator.approve(paypalOrderId))).expect(303);
    await shop.portal.simulator.flushWebhooks();
    return Number(/\d+$/.exec(number)![0]);
  }

  /** An order the buyer never paid, closed `status` `days` ago. */
  async function unpaidOrder(status: 'expired' | 'cancelled' | 'failed', days: number): Promise<number> {
    const { number } = await orderSentToPayPal(shop);
    const id = Number(/\d+$/.exec(number)![0]);
    await knex()('orders').where('id', id).update({ status, updated_at: iso(days) });
    return id;
  }

  const ids = async (table: string, column = 'id') => (await knex()(table).orderBy(column).pluck(column)).map(String);

  /** Rows of every kind the job looks at, old and recent; answers what must stay. */
  async function seed() {
    const [paid, paidMailPending, paidRecentMail] = [await paidOrder(), await paidOrder(), await paidOrder()];
    await knex()('orders').whereIn('id', [paid, paidMailPending, paidRecentMail]).update({ updated_at: iso(OLD) });
    const oldUnpaid = [await unpaidOrder('expired', OLD), await unpaidOrder('cancelled', OLD)];
    // Failed with no capture id: PayPal captured an amount that did not match, money a person must look at.
    const oldFailed = await unpaidOrder('failed', OLD);
    const recentUnpaid = await unpaidOrder('expired', RECENT);
    await knex()('webhook_events').insert([
      { event_id: 'WH-OLD-ORDER', event_type: 'CHECKOUT.ORDER.APPROVED', order_id: oldUnpaid[0], received_at: iso(RECENT) },
      { event_id: 'WH-OLD', event_type: 'PAYMENT.CAPTURE.COMPLETED', order_id: paid, received_at: iso(OLD) },
      { event_id: 'WH-RECENT', event_type: 'PAYMENT.CAPTURE.COMPLETED', order_id: paid, received_at: iso(RECENT) },
    ]);
    await knex()('webhook_transmissions').insert([
      { transmission_id: 'T-OLD', event_id: 'WH-OLD', transmission_time: iso(OLD), received_at: iso(OLD) },
      { transmission_id: 'T-RECENT', event_id: 'WH-RECENT', transmission_time: iso(RECENT), received_at: iso(RECENT) },
    ]);

    const mailOf = async (orderId: number) => (await knex()('mail_outbox').join('documents', 'documents.id', 'mail_outbox.document_id').where('documents.order_id', orderId).first('mail_outbox.id')).id as number;
    await knex()('mail_outbox').where('id', await mailOf(paid)).update({ status: 'sent', created_at: iso(OLD) });
    await knex()('mail_outbox').where('id', await mailOf(paidMailPending)).update({ status: 'pending', created_at: iso(OLD) });
    await knex()('mail_outbox').where('id', await mailOf(paidRecentMail)).update({ status: 'kept', created_at: iso(RECENT) });

    const later = new Date(shop.portal.clock.now().getTime() + DAY_MS).toISOString();
    await knex()('sessions').insert([
      { sid: 'expired-session', sess: JSON.stringify({ cookie: {} }), expired: iso(RECENT) },
      { sid: 'live-session', sess: JSON.stringify({ cookie: {} }), expired: later },
    ]);
    const camille = shop.camille.id;
    await knex()('login_sessions').insert([
      { sid: 'gone-session', user_id: camille, method: 'password', started_at: iso(OLD) },
      { sid: 'expired-session', user_id: camille, method: 'password', started_at: iso(OLD) },
      { sid: 'recently-ended', user_id: camille, method: 'password', started_at: iso(RECENT) },
      { sid: 'live-session', user_id: camille, method: 'password', started_at: iso(OLD) },
    ]);
    const now = shop.portal.clock.now().getTime();
    await knex()('login_throttle').insert([
      { key: 'ip:stale', failures: 3, window_started_at: now - DAY_MS, locked_until: null },
      { key: 'ip:lock-over', failures: 50, window_started_at: now - DAY_MS, locked_until: now - 1000 },
      { key: 'ip:counting', failures: 3, window_started_at: now - 60_000, locked_until: null },
      { key: 'ip:locked', failures: 50, window_started_at: now - DAY_MS, locked_until: now + 60_000 },
    ]);
    await knex()('sign_in_keys').insert([
      { provider_id: 'cas', key: 'ST-used', value: null, expires_at: now - 1000 },
      { provider_id: 'cas', key: 'ST-fresh', value: null, expires_at: now + 60_000 },
    ]);
    await knex()('quote_lookup_attempts').insert([
      { key: 'number:old', attempted_at: now - 2 * DAY_MS },
      { key: 'number:recent', attempted_at: now - 60_000 },
    ]);
    await knex()('login_familiar_sources').insert([
      { user_id: camille, source_sha256: 'a'.repeat(64), last_signed_in_at: now - 200 * DAY_MS },
      { user_id: camille, source_sha256: 'b'.repeat(64), last_signed_in_at: now - DAY_MS },
    ]);
    const [apiKey] = await knex()('api_keys').insert({ name: 'Print server', key_prefix: 'rk_test', secret_sha256: 'c'.repeat(64), created_at: iso(OLD) }, ['id']);
    const apiKeyId = (apiKey as { id: number }).id;
    const idempotency = (key: string, days: number) => ({ api_key_id: apiKeyId, idempotency_key: key, fingerprint: 'd'.repeat(64), state: 'done', response_status: 201, response_body: '{}', lock_token: 'e'.repeat(32), locked_at: iso(days), created_at: iso(days) });
    await knex()('api_idempotency_keys').insert([idempotency('old-key', 60), idempotency('recent-key', RECENT)]);
    const audit = (action: string, days: number) => ({ actor_user_id: null, actor_username: 'cli:root', action, target: 'camille', before_json: null, after_json: null, created_at: iso(days) });
    await knex()('audit_log').insert([audit('person.old', OLD), audit('person.recent', 30)]);
    return { paid, paidMailPending, paidRecentMail, oldUnpaid, oldFailed, recentUnpaid };
  }

  it('removes exactly what is past its period, keeps what is recent or kept by law, and the ledger still checks', async () => {
    const seeded = await seed();
    const ledgerBefore = { transactions: await ids('ledger_transactions'), entries: await ids('ledger_entries'), documents: await ids('documents'), files: (await knex()('document_files').count({ n: '*' }).first())?.n };

    const run = await job().run();

    expect(run.ran).to.equal(true);
    expect(await ids('orders')).to.deep.equal([seeded.paid, seeded.paidMailPending, seeded.paidRecentMail, seeded.oldFailed, seeded.recentUnpaid].map(String));
    expect(await knex()('order_events').whereIn('order_id', seeded.oldUnpaid).count({ n: '*' }).first()).to.deep.include({ n: testDialect === 'postgres' ? '0' : 0 });
    expect(await ids('webhook_events', 'event_id')).to.include('WH-RECENT').and.not.include('WH-OLD').and.not.include('WH-OLD-ORDER');
    expect(await ids('webhook_transmissions', 'transmission_id')).to.include('T-RECENT').and.not.include('T-OLD');
    expect((await knex()('mail_outbox').join('documents', 'documents.id', 'mail_outbox.document_id').orderBy('documents.order_id').pluck('documents.order_id')).map(Number)).to.deep.equal([seeded.paidMailPending, seeded.paidRecentMail]);
    expect((await knex()('sessions').pluck('sid')).sort()).to.include('live-session').and.not.include('expired-session');
    expect((await knex()('login_sessions').whereIn('sid', ['gone-session', 'expired-session', 'recently-ended', 'live-session']).pluck('sid')).sort()).to.deep.equal(['live-session', 'recently-ended']);
    expect((await ids('login_throttle', 'key')).filter((key) => key.startsWith('ip:'))).to.deep.equal(['ip:counting', 'ip:locked']);
    expect(await ids('sign_in_keys', 'key')).to.deep.equal(['ST-fresh']);
    expect(await ids('quote_lookup_attempts', 'key')).to.deep.equal(['number:recent']);
    expect(await ids('login_familiar_sources', 'source_sha256')).to.include('b'.repeat(64)).and.not.include('a'.repeat(64));
    expect(await ids('api_idempotency_keys', 'idempotency_key')).to.deep.equal(['recent-key']);
    expect((await knex()('audit_log').pluck('action')).filter((action) => action.startsWith('person.'))).to.deep.equal(['person.recent']);
    // The ledger and the documents are untouched.
    expect({ transactions: await ids('ledger_transactions'), entries: await ids('ledger_entries'), documents: await ids('documents'), files: (await knex()('document_files').count({ n: '*' }).first())?.n }).to.deep.equal(ledgerBefore);
    await expectLedgerConsistent(shop.portal.db);
    expect(run.ran && run.removed).to.include({ unpaidOrders: 2, mails: 1, audit: 1, apiIdempotency: 1, signInKeys: 1, quoteLookupAttempts: 1, familiarSources: 1, webhookTransmissions: 1 });

    // Again: nothing more is due.
    const again = await job().run();
    expect(again.ran && Object.values(again.removed).every((count) => count === 0)).to.equal(true);
  });

  it('deletes in batches of the configured size, and two runs at once remove each row once without failing', async () => {
    const audit = (index: number) => ({ actor_user_id: null, actor_username: 'cli:root', action: 'batch.old', target: String(index), before_json: null, after_json: null, created_at: iso(OLD) });
    await knex()('audit_log').insert(Array.from({ length: 25 }, (_, index) => audit(index)));
    const small = () => createRetentionJob({ ...retentionJobDeps(shop.portal.config, shop.portal.db, shop.portal.clock, pino({ level: 'silent' })), batchSize: 10 });
    const statements: string[] = [];
    const record = (query: { sql: string }) => statements.push(query.sql);
    knex().on('query', record);
    const runs = await Promise.all([small().run(), small().run()]);
    knex().off('query', record);
    const removed = runs.reduce((sum, run) => sum + (run.ran ? run.removed.audit : 0), 0);
    expect(removed).to.equal(25);
    expect(await knex()('audit_log').where('action', 'batch.old').count({ n: '*' }).first()).to.deep.include({ n: testDialect === 'postgres' ? '0' : 0 });
    // Never more than 10 at a time: at least three deletes of the audit log.
    expect(statements.filter((sql) => /^delete from ["`]audit_log["`]/i.test(sql)).length).to.be.at.least(3);
  });

  it('leaves the audit log append-only for recent entries, whatever asks', async () => {
    await knex()('audit_log').insert({ actor_user_id: null, actor_username: 'cli:root', action: 'person.today', target: null, before_json: null, after_json: null, created_at: new Date().toISOString() });
    await knex()('audit_log').insert({ actor_user_id: null, actor_username: 'cli:root', action: 'person.half-year', target: null, before_json: null, after_json: null, created_at: new Date(Date.now() - 200 * DAY_MS).toISOString() });
    for (const action of ['person.today', 'person.half-year']) {
      let refused: unknown = null;
      await knex()('audit_log').where('action', action).del().catch((error: unknown) => (refused = error));
      expect(String(refused)).to.match(/append-only/);
    }
    let updateRefused: unknown = null;
    await knex()('audit_log').where('action', 'person.today').update({ target: 'x' }).catch((error: unknown) => (updateRefused = error));
    expect(String(updateRefused)).to.match(/append-only/);
  });

  it('goes on with the other kinds when one is refused, and says which', async () => {
    // A row of some other table still pointing at an old unpaid order: the database refuses its delete.
    const held = await unpaidOrder('expired', OLD);
    await knex().schema.createTable('test_order_holds', (table) => {
      table.integer('order_id').unsigned().notNullable().references('id').inTable('orders');
    });
    await knex()('test_order_holds').insert({ order_id: held });
    await knex()('quote_lookup_attempts').insert({ key: 'number:while-refused', attempted_at: shop.portal.clock.now().getTime() - 2 * DAY_MS });
    try {
      const run = await job().run();
      expect(run.ran && run.failed).to.deep.equal(['unpaidOrders']);
      expect(run.ran && run.removed.quoteLookupAttempts).to.equal(1);
      expect(await knex()('orders').where('id', held).first('status')).to.deep.equal({ status: 'expired' });
    } finally {
      await knex().schema.dropTable('test_order_holds');
    }
    await job().run();
    expect(await knex()('orders').where('id', held).first()).to.equal(undefined);
  });

  it('leaves an old unpaid order that a late payment is moving to paid meanwhile', async () => {
    const id = await unpaidOrder('expired', OLD);
    let locked!: () => void;
    let release!: () => void;
    const orderLocked = new Promise<void>((resolve) => (locked = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    // As the capture path does: the order's lock first, then the move to paid.
    const payment = shop.portal.db.transaction(async (trx) => {
      await trx('orders').where('id', id).forUpdate().first();
      locked();
      await released;
      await trx('orders').where('id', id).update({ status: 'paid', paypal_capture_id: 'CAPTURE-LATE', updated_at: shop.portal.clock.now().toISOString() });
    });
    await orderLocked;
    const running = job().run();
    await new Promise((resolve) => setTimeout(resolve, 300));
    release();
    await payment;
    const run = await running;
    expect(run.ran && run.failed).to.deep.equal([]);
    expect(await knex()('orders').where('id', id).first('status', 'paypal_capture_id')).to.deep.equal({ status: 'paid', paypal_capture_id: 'CAPTURE-LATE' });
    expect(await knex()('order_events').where('order_id', id)).to.not.deep.equal([]);
  });

  it('runs from the command line (the real clock), printing what it removed', async () => {
    await knex()('quote_lookup_attempts').insert({ key: 'number:cli', attempted_at: Date.now() - 2 * DAY_MS });
    let out = '';
    const code = await runCli(['retention', 'run'], {
      stdin: Readable.from(['']),
      stdout: { write: (text: string) => (out += text) },
      stderr: { write: () => undefined },
      env: { NODE_ENV: 'test', DATABASE_URL: shop.portal.url },
    });
    expect(code).to.equal(0);
    expect(out).to.match(/quoteLookupAttempts: [1-9]/);
    expect(await knex()('quote_lookup_attempts').where('key', 'number:cli').first()).to.equal(undefined);
  });
});
