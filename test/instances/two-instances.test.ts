import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { runIfLockFree } from '../../src/db/advisory-lock.js';
import { toSafeInteger } from '../../src/db/database.js';
import { findAccountByUserId } from '../../src/db/ledger/ledger-repository.js';
import { findUserByUsername } from '../../src/db/people/user-repository.js';
import { projectRoot } from '../../src/config.js';
import { DEMO_LOGINS } from '../../src/services/demo/demo-logins.js';
import { createPayPalSimulator, type PayPalSimulator } from '../../src/payments/paypal/simulator/index.js';
import { createTestDatabase, expectLedgerConsistent, type TestDatabase } from '../helpers/database.js';
import { csrfTokenFrom } from '../helpers/portal.js';
import { pathOf } from '../helpers/topup.js';
import { gate, until } from '../helpers/waiting.js';
import { BalancedBrowser } from './browser.js';
import { startPortalProcess, type LogLine, type PortalProcess } from './portal-process.js';

/** The address people and PayPal use: a load balancer in front of both instances (played here by the test). */
const PUBLIC_URL = 'http://recharge.lb.test';
const STUDENT = DEMO_LOGINS.find((login) => login.role === 'user')!;
const MIGRATIONS = readdirSync(path.join(projectRoot, 'migrations')).filter((name) => name.endsWith('.ts'));

const logsOf = (instance: PortalProcess, message: string, from = 0): LogLine[] => instance.logs.slice(from).filter((line) => line.msg === message);
const SKIPPED = 'reconciler skipped: another process holds the reconciler lock';
const SWEPT = ['reconciler swept', 'reconciler changed orders'];
const sweepsOf = (instance: PortalProcess, from = 0) => instance.logs.slice(from).filter((line) => SWEPT.includes(line.msg));

describe('two portal instances on one PostgreSQL database', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let simulator: PayPalSimulator;
  let uploadsDir: string;
  let a: PortalProcess;
  let b: PortalProcess;

  before(async () => {
    const serverUrl = process.env.TEST_DATABASE_URL;
    if (!serverUrl) throw new Error('this test needs PostgreSQL: set TEST_DATABASE_URL (npm run test:instances defaults to postgres://postgres@127.0.0.1:5432/postgres)');
    // Created empty: the two instances migrate it themselves, at the same time.
    database = await createTestDatabase({ migrated: false }).catch((error: unknown) => {
      throw new Error(`PostgreSQL is not reachable at ${serverUrl.replace(/\/\/[^@/]*@/, '//')} (${(error as Error).message}); start it or point TEST_DATABASE_URL at one`);
    });
    // One PayPal for both instances; its webhooks go to B only.
    simulator = createPayPalSimulator({ webhookRetry: { attempts: 5, delayMs: 200 } });
    const simulatorUrl = await simulator.start();
    uploadsDir = await mkdtemp(path.join(tmpdir(), 'recharge-instances-uploads-'));
    // Production, as deployed: what several instances need is what production requires (a shared
    // SESSION_SECRET, cached views); only the payments and mail are stood in for, explicitly allowed.
    const env = {
      NODE_ENV: 'production',
      DATABASE_URL: database.url,
      SESSION_SECRET: randomBytes(32).toString('hex'),
      PUBLIC_URL,
      UPLOADS_DIR: uploadsDir,
      PAYPAL_ENV: 'simulator',
      PAYPAL_API_BASE_URL: simulatorUrl,
      ALLOW_SIMULATED_PAYMENTS_IN_PRODUCTION: 'true',
      DEMO_DATA: 'true',
      ALLOW_DEMO_IN_PRODUCTION: 'true',
      MAIL_DELIVERY: 'keep',
      RECONCILE_INTERVAL_SECONDS: '1',
      // One person has ten orders open and pays eleven within a minute here: above production's default limits.
      OPEN_ORDERS_PER_PERSON: '10',
      PAYPAL_ORDERS_PER_PERSON_PER_MINUTE: '20',
      // Sweeps and skipped sweeps are logged at debug.
      LOG_LEVEL: 'debug',
    };
    a = startPortalProcess('A', env);
    b = startPortalProcess('B', env);
    await Promise.all([a.ready, b.ready]).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n--- A ---\n${a.output}\n--- B ---\n${b.output}`);
    });
    simulator.setWebhookUrl(`${b.url}/webhooks/paypal`);
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await simulator?.stop();
    await database?.cleanup();
    if (uploadsDir) await rm(uploadsDir, { recursive: true, force: true });
  });

  const knex = () => database.db.knex;
  const count = async (query: ReturnType<ReturnType<typeof knex>>) => toSafeInteger((await query.count({ total: '*' }).first())?.total);

  async function logIn(browser: BalancedBrowser, instance: PortalProcess): Promise<void> {
    const page = await browser.get(instance, '/login');
    const response = await browser.post(instance, '/login', { _csrf: csrfTokenFrom(page.text), username: STUDENT.username, password: STUDENT.password });
    expect(response.status, response.text.slice(0, 300)).to.equal(303);
    expect(response.headers.location).to.equal('/account');
  }

  /** Chooses an offer, accepts the terms and presses "Pay with PayPal", all on `instance`; returns the PayPal order id. */
  async function placeAndPay(browser: BalancedBrowser, instance: PortalProcess, offer: Record<string, string>): Promise<string> {
    const form = await browser.get(instance, '/topup');
    const terms = /name="terms" value="(\d+)"/.exec(form.text)?.[1] as string;
    const placed = await browser.post(instance, '/topup', { _csrf: csrfTokenFrom(form.text), ...offer, terms });
    expect(placed.status, placed.text.slice(0, 300)).to.equal(303);
    const orderPath = placed.headers.location as string;
    const page = await browser.get(instance, orderPath);
    const paying = await browser.post(instance, `${orderPath}/pay`, { _csrf: csrfTokenFrom(page.text) });
    expect(paying.status).to.equal(303);
    const approval = new URL(paying.headers.location as string);
    expect(approval.origin).to.equal(new URL(simulator.baseUrl).origin);
    return approval.searchParams.get('token') as string;
  }

  const orderOf = (paypalOrderId: string) => knex()('orders').where('paypal_order_id', paypalOrderId).first();

  it('starts both at once on an empty database: one applies the migrations, the other waits and finds none; the demo is seeded once', async () => {
    expect(logsOf(a, 'database migrated').length + logsOf(b, 'database migrated').length).to.equal(1);
    expect(await count(knex()('knex_migrations'))).to.equal(MIGRATIONS.length);
    for (const instance of [a, b]) expect(instance.output).to.include(`${STUDENT.username} / ${STUDENT.password}`);
    expect(await count(knex()('users').whereIn('username', DEMO_LOGINS.map((login) => login.username)))).to.equal(DEMO_LOGINS.length);
    expect(await count(knex()('terms_versions'))).to.equal(1);
  });

  it('shares sessions: logged in through the form on A, the same cookie opens the account page on B; logging out on B ends it on A', async () => {
    const browser = new BalancedBrowser();
    await logIn(browser, a);
    const session = new Map(browser.cookies);
    const onB = await browser.get(b, '/account');
    expect(onB.status).to.equal(200);
    expect(onB.text).to.include(STUDENT.displayName);
    expect((await browser.get(a, '/account')).status).to.equal(200);

    const logout = await browser.post(b, '/logout', { _csrf: csrfTokenFrom(onB.text) });
    expect(logout.status).to.equal(303);
    expect(logout.headers.location).to.equal('/login?notice=logged-out');
    // The session cookie is gone; what is left (the login form's CSRF cookie) signs nobody in.
    expect([...browser.cookies.keys()]).to.not.include('recharge.sid');
    expect(browser.cookies.size).to.be.below(session.size);
    // The old cookie, replayed on A, opens nothing any more.
    const replay = new BalancedBrowser();
    for (const [name, value] of session) replay.cookies.set(name, value);
    const onA = await replay.get(a, '/account');
    expect(onA.status).to.equal(303);
    expect(onA.headers.location).to.match(/^\/login/);
  });

  it('credits each order once when the return page is on A, the webhooks on B, and the reconcilers sweep meanwhile', async () => {
    const browser = new BalancedBrowser();
    await logIn(browser, a);
    const student = (await findUserByUsername(knex(), STUDENT.username))!;
    const balanceBefore = (await findAccountByUserId(knex(), student.id))!.balance;
    // Ten different amounts: choosing an offer again while its order is open brings that order back.
    const paypalIds: string[] = [];
    for (let index = 0; index < 10; index += 1) paypalIds.push(await placeAndPay(browser, a, { offer: 'free', amount: String(5 + index) }));
    const [racing, reconciled] = [paypalIds.slice(0, 6), paypalIds.slice(6)];

    // Six orders: every path at once. The buyer comes back to A twice (a reload), each webhook reaches B twice.
    for (const id of racing) simulator.setFault({ type: 'webhooks', duplicates: 1 }, { orderId: id });
    const returns = await Promise.all(
      racing.map((id) => {
        const returnUrl = simulator.approve(id);
        expect(returnUrl.startsWith(`${PUBLIC_URL}/topup/return?`)).to.equal(true);
        return Promise.all([browser.get(a, pathOf(returnUrl)), browser.get(a, pathOf(returnUrl))]);
      }),
    );
    for (const response of returns.flat()) {
      expect(response.status).to.equal(303);
      expect(response.headers.location).to.match(/^\/orders\/R-/);
    }

    // Four orders: approved at PayPal, but the buyer never comes back and the webhooks are held: only a reconciler can credit them.
    for (const id of reconciled) simulator.setFault({ type: 'webhooks', reverseOrder: true }, { orderId: id });
    const lateReturns = reconciled.map((id) => simulator.approve(id));
    await until(async () => (await knex()('orders').whereIn('paypal_order_id', reconciled).where('status', 'paid')).length === reconciled.length, 'the reconcilers have credited the held orders');
    // Then the buyer does come back, and the held webhooks arrive (newest first): both find the work done.
    for (const returnUrl of lateReturns) expect((await browser.get(a, pathOf(returnUrl))).status).to.equal(303);
    await simulator.flushWebhooks();

    const events = new Set(simulator.deliveries.map((delivery) => delivery.eventId));
    for (const event of events) expect(simulator.deliveries.some((delivery) => delivery.eventId === event && delivery.status === 200), `event ${event} accepted by B`).to.equal(true);
    expect(events.size).to.be.at.least(2 * paypalIds.length);

    const orders = await Promise.all(paypalIds.map(orderOf));
    let credited = 0;
    for (const order of orders) {
      expect(order.status).to.equal('paid');
      const credit = await knex()('ledger_transactions').where('idempotency_key', `paypal-capture:${order.paypal_capture_id}`);
      expect(credit.map((transaction: { id: number }) => transaction.id)).to.deep.equal([order.ledger_transaction_id]);
      expect(await count(knex()('order_events').where({ order_id: order.id, to_status: 'paid' }))).to.equal(1);
      const receipts = await knex()('documents').where({ order_id: order.id, kind: 'receipt' });
      expect(receipts).to.have.length(1);
      expect(await count(knex()('mail_outbox').where('document_id', receipts[0].id))).to.equal(1);
      expect((simulator.order(order.paypal_order_id) as { purchase_units: Array<{ payments: { captures: unknown[] } }> }).purchase_units[0]!.payments.captures).to.have.length(1);
      credited += toSafeInteger(order.units) + toSafeInteger(order.bonus_units);
    }
    expect(await count(knex()('ledger_transactions').where('idempotency_key', 'like', 'paypal-capture:%'))).to.equal(paypalIds.length);
    expect((await findAccountByUserId(knex(), student.id))!.balance - balanceBefore).to.equal(credited);
    // Each receipt mail is claimed once, whichever instance got there first.
    const mails = await until(async () => {
      const rows = await knex()('mail_outbox').select('status', 'attempts');
      return rows.length === paypalIds.length && rows.every((row: { status: string }) => row.status === 'kept') && rows;
    }, 'every receipt mail is kept');
    expect(mails.map((mail: { attempts: unknown }) => toSafeInteger(mail.attempts))).to.deep.equal(Array(paypalIds.length).fill(1));
    await expectLedgerConsistent(database.db);
  });

  it('sweeps on one instance at a time: while another process holds the reconciler lock both skip, then one of them expires a stale order, once', async () => {
    const browser = new BalancedBrowser();
    await logIn(browser, a);
    const stale = await placeAndPay(browser, a, { offer: 'pack-5' });
    const { id: orderId } = await orderOf(stale);

    // The test takes the lock as a third instance would (retrying while one of the portals is in the middle of a sweep).
    const release = await until(() => holdReconcilerLock(), 'the test holds the reconciler lock');
    let released = false;
    try {
      const requestsBefore = simulator.requests.length;
      const logsBefore = { a: a.logs.length, b: b.logs.length };
      // Past the expiry: the next sweep that runs would look it up and expire it.
      await knex()('orders').where('id', orderId).update({ created_at: new Date(Date.now() - 24 * 3600_000).toISOString() });
      await until(() => logsOf(a, SKIPPED, logsBefore.a).length >= 2 && logsOf(b, SKIPPED, logsBefore.b).length >= 2, 'both instances have skipped two sweeps');
      // An instance's lines come in order: after its first skip, a sweep line could only be a sweep run while the test held the lock.
      // (Before it, the line of a sweep that ended just before the test took the lock may still arrive.)
      const firstSkip = (instance: PortalProcess, from: number) => instance.logs.findIndex((line, index) => index >= from && line.msg === SKIPPED);
      expect([...sweepsOf(a, firstSkip(a, logsBefore.a)), ...sweepsOf(b, firstSkip(b, logsBefore.b))]).to.deep.equal([]);
      expect((await orderOf(stale)).status).to.equal('awaiting_payment');
      expect(simulator.requests.slice(requestsBefore).filter((request) => request.path.includes(stale))).to.deep.equal([]);

      const logsAtRelease = { a: a.logs.length, b: b.logs.length };
      released = true;
      await release();
      await until(async () => (await orderOf(stale)).status === 'expired', 'a reconciler has expired the stale order');
      // Both go on sweeping once the lock is free; the order was expired by one sweep, looked up at PayPal before that.
      await until(() => sweepsOf(a, logsAtRelease.a).length > 0 && sweepsOf(b, logsAtRelease.b).length > 0, 'both instances have swept since');
      const changes = [...logsOf(a, 'reconciler changed orders', logsAtRelease.a), ...logsOf(b, 'reconciler changed orders', logsAtRelease.b)];
      expect(changes.map((line) => line.changed)).to.deep.equal([1]);
      expect(await count(knex()('order_events').where({ order_id: orderId, to_status: 'expired' }))).to.equal(1);
      const lookUps = simulator.requests.slice(requestsBefore).filter((request) => request.method === 'GET' && request.path.endsWith(`/orders/${stale}`));
      expect(lookUps.length).to.be.at.least(1);
    } finally {
      if (!released) await release();
    }
  });

  /** Takes the reconciler lock unless a portal holds it right now; the returned function releases it. */
  async function holdReconcilerLock(): Promise<(() => Promise<void>) | null> {
    const release = gate();
    const taken = gate();
    const run = runIfLockFree(knex(), 'reconciler', async () => {
      taken.open();
      await release.opened;
    });
    if ((await Promise.race([taken.opened.then(() => 'held'), run.then((outcome) => (outcome.ran ? 'held' : 'busy'))])) === 'busy') return null;
    return async () => {
      release.open();
      await run;
    };
  }
});
