import { expect } from 'chai';
import supertest from 'supertest';
import type { User } from '../../src/domain/people/users.js';
import { addDays, dayOf } from '../../src/domain/time/calendar.js';
import { findOrder } from '../../src/db/checkout/order-repository.js';
import type { Order } from '../../src/domain/checkout/orders.js';
import { lockPersonsOrders, markPayPalOrderStarted } from '../../src/db/checkout/order-limits-repository.js';
import { unitsOutstanding } from '../../src/db/reports/dashboard-repository.js';
import { createOrderAdministration } from '../../src/services/checkout/order-administration.js';
import { closeAccount } from '../../src/services/people/anonymisation.js';
import { expectLedgerConsistent, testDialect } from '../helpers/database.js';
import { createTestPortal, csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';
import { pathOf, publishOffers, restorePayments } from '../helpers/topup.js';
import { askForRefund, latestRefundRequestOf, loseNextRefundAnswer, paidPackOrder, refundPartsOf, signedInPerson } from '../helpers/credit-refunds.js';

type Agent = ReturnType<typeof supertest.agent>;

/** What a review of the credit refunds' automatic retry, closing accounts and the dashboard found: each test failed before its fix. */
describe(`credit refund retries, closed accounts and the dashboard, after review (${testDialect})`, function () {
  this.timeout(60_000);
  let portal: TestPortal;
  let termsId: number;
  let adminUser: User;
  let people = 0;

  before(async () => {
    portal = await createTestPortal({ PAYPAL_TIMEOUT_MS: '500' });
    termsId = await publishOffers(portal);
    adminUser = await portal.addUser('gestion', 'admin-password', { role: 'admin' });
  });
  afterEach(() => restorePayments(portal));
  after(() => portal.cleanup());

  const knex = () => portal.db.knex;
  const person = () => signedInPerson(portal, `derniers${(people += 1)}`);
  const paidOrder = (buyer: User, packId: string) => paidPackOrder(portal, buyer, packId, termsId);
  const actor = () => ({ id: adminUser.id, username: adminUser.username });
  const ask = askForRefund;
  const requestOf = (buyer: User) => latestRefundRequestOf(portal, buyer);
  const partsOf = (requestId: number) => refundPartsOf(portal, requestId);
  const attentionOf = (orderId: number) => knex()('order_events').where({ order_id: orderId, type: 'attention' }).pluck('detail');

  it('retries a fresh part even when 100 older parts, left to an admin, still wait', async () => {
    // 100 parts the sweep gave up on (five attempts, unknown outcome), still pending for an admin.
    const { user } = await person();
    const order = await paidOrder(user, 'pack-10');
    const long = new Date(portal.clock.now().getTime() - 86_400_000).toISOString();
    const staleRequests: number[] = [];
    for (let index = 0; index < 100; index += 1) {
      const [row] = (await knex()('credit_refund_requests')
        .insert({ user_id: user.id, open_user_id: null, status: 'approved', close_account: false, estimated_cents: 1, currency: 'EUR', refunded_units: 1, refunded_cents: 1, created_at: long, updated_at: long })
        .returning('id')) as Array<{ id: number } | number>;
      const requestId = typeof row === 'object' ? Number(row.id) : Number(row);
      staleRequests.push(requestId);
      await knex()('credit_refund_parts').insert({
        request_id: requestId,
        order_id: order.id,
        method: 'paypal',
        status: 'pending',
        amount_cents: 1,
        currency: 'EUR',
        units: 1,
        bonus_units: 0,
        paypal_request_id: `stale-${requestId}`,
        attempts: 5,
        last_outcome: 'unknown',
        created_at: long,
        updated_at: long,
      });
    }
    try {
      // A new request whose PayPal answer was lost: due 10 minutes later.
      const fresh = await person();
      await paidOrder(fresh.user, 'pack-10');
      await ask(fresh.agent);
      const request = await requestOf(fresh.user);
      loseNextRefundAnswer(portal);
      await portal.creditRefunds.approve(actor(), request.id);
      expect(await partsOf(request.id)).to.have.nested.property('[0].last_outcome', 'unknown');
      portal.simulator.setWebhookUrl(`${portal.baseUrl}/webhooks/paypal`);
      portal.clock.advance(11 * 60_000);
      const swept = await portal.creditRefunds.retryWaitingParts();
      expect(swept.asked, 'the fresh part was never listed: 100 stale parts fill the LIMIT 100 before partRetryDue filters').to.equal(1);
    } finally {
      await knex()('credit_refund_parts').whereIn('request_id', staleRequests).del();
      await knex()('credit_refund_requests').whereIn('id', staleRequests).del();
    }
  });

  it('asks staff to refund a closed account’s payment only when it is captured, not when it is refunded later', async () => {
    const { user } = await person();
    const order = await paidOrder(user, 'pack-20');
    expect(await attentionOf(order.id)).to.deep.equal([]);
    expect((await closeAccount({ db: portal.db, clock: portal.clock }, user.username, actor())).outcome).to.equal('changed');
    // Staff refund part of the payment (the person was refunded outside the portal, say): the take-back reads the account.
    const refunded = await createOrderAdministration({ db: portal.db, checkout: portal.checkout, clock: portal.clock }).refund(adminUser, order, { amountCents: 500, reason: 'geste', nonce: 'review-1' });
    expect(refunded.kind).to.equal('refunded');
    await portal.simulator.flushWebhooks();
    expect(await attentionOf(order.id), 'a payment made before the closure, being refunded, is told to be refunded').to.deep.equal([]);
    await expectLedgerConsistent(portal.db);
  });

  it('asks staff nothing when a closed account’s old payment is charged back', async () => {
    const { user } = await person();
    const order = await paidOrder(user, 'pack-10');
    expect((await closeAccount({ db: portal.db, clock: portal.clock }, user.username, actor())).outcome).to.equal('changed');
    portal.simulator.reverseCapture(order.paypalOrderId!);
    await portal.simulator.flushWebhooks();
    expect((await knex()('orders').where('id', order.id).first('status')).status).to.equal('reversed');
    expect(await attentionOf(order.id), 'a reversed payment is told to be refunded').to.deep.equal([]);
  });

  it('counts the units of bought codes once on the dashboard: redeemed ones are in a balance, voided and expired ones nowhere', async () => {
    const today = () => dayOf(portal.clock.now(), portal.config.i18n.timeZone);
    const admin = supertest.agent(portal.app);
    await logIn(admin, 'gestion', 'admin-password');
    const tokenOf = async (agent: Agent, path: string) => csrfTokenFrom((await agent.get(path).expect(200)).text);
    const before = await unitsOutstanding(knex(), today());
    const buyer = await person();
    expect((await admin.post('/admin/vouchers/buyers').type('form').send({ _csrf: await tokenOf(admin, '/admin/vouchers'), username: buyer.user.username })).status).to.equal(303);
    const buy = async (count: string, expiresOn: string) => {
      const response = await buyer.agent.post('/vouchers/buy').type('form').send({ _csrf: await tokenOf(buyer.agent, '/vouchers/purchases'), name: 'Dashboard', count, value: '5', expiresOn, terms: String(termsId) });
      expect(response.status, response.text?.slice(0, 300)).to.equal(303);
      const paypalOrderId = new URL(response.headers.location as string).searchParams.get('token') as string;
      await buyer.agent.get(pathOf(portal.simulator.approve(paypalOrderId))).expect(303);
      await portal.simulator.flushWebhooks();
      const order = await knex()('orders').where('paypal_order_id', paypalOrderId).first();
      return { order, purchase: await knex()('voucher_purchases').where('order_id', order.id).first() };
    };
    const kept = await buy('3', addDays(today(), 90));
    const codes = (await buyer.agent.post(`/vouchers/purchases/${kept.purchase.id}/codes`).type('form').send({ _csrf: await tokenOf(buyer.agent, '/vouchers/purchases'), format: 'csv' }).buffer(true).parse((incoming, done) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => done(null, Buffer.concat(chunks)));
    })).body as Buffer;
    const code = codes.toString('utf8').replace(/^\uFEFF/, '').trim().split('\r\n')[1]!.split(';')[0]!;
    const redeemer = await person();
    expect((await redeemer.agent.post('/topup/voucher').type('form').send({ _csrf: await tokenOf(redeemer.agent, '/topup'), code })).status).to.equal(200);
    const refunded = await buy('2', addDays(today(), 90));
    await createOrderAdministration({ db: portal.db, checkout: portal.checkout, clock: portal.clock }).refund(adminUser, (await findOrder(knex(), { id: Number(refunded.order.id) })) as Order, { amountCents: 100, reason: 'moins', nonce: 'dash-1' });
    await portal.simulator.flushWebhooks();
    const after = await unitsOutstanding(knex(), today());
    // Two codes of 5 units not redeemed (500 hundredths each); the redeemed one is in a balance; the refunded batch is void.
    expect(after.boughtCodes - before.boughtCodes).to.equal(2 * 500);
    expect(after.total - before.total).to.equal(500);
    const page = await admin.get('/admin').expect(200);
    expect(page.text.replace(/[\u202f\u00a0]/g, ' ')).to.match(/S&#39;y ajoutent|S'y ajoutent/);
  });

  // Row locks are PostgreSQL's: SQLite runs one writer at a time.
  if (testDialect === 'postgres') it('a close-account approval and the person starting a payment at once do not deadlock', async () => {
    const deadlocks = async () => {
      await knex().raw('select pg_stat_clear_snapshot()');
      return Number((await knex().raw('select deadlocks from pg_stat_database where datname = current_database()')).rows[0].deadlocks);
    };
    const { user, agent } = await person();
    await paidOrder(user, 'pack-10');
    // An order placed, not yet sent to PayPal: the person is about to click "pay".
    const placed = await portal.checkout.placeOrder(user, { packId: 'pack-5' }, termsId, 'fr');
    await ask(agent, { closeAccount: 'yes' });
    const request = await requestOf(user);
    const before = await deadlocks();
    // checkout.countPayPalOrderStart: the person's lock (users row), then the order's start marked.
    const starting = await knex().transaction();
    await lockPersonsOrders(starting, 'postgres', user.id);
    const approving = portal.creditRefunds.approve(actor(), request.id).then(
      () => null,
      (error: Error) => error,
    );
    // approve() waits for the person's row, which the payment's start holds.
    for (let tries = 0; tries < 100; tries += 1) {
      if (await knex()('pg_stat_activity').where({ wait_event_type: 'Lock' }).whereILike('query', '%"users"%').first('pid')) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    let startError: Error | null = null;
    try {
      await markPayPalOrderStarted(starting, placed.id, portal.clock.now());
      await starting.commit();
    } catch (error) {
      startError = error as Error;
      await starting.rollback().catch(() => undefined);
    }
    const approveError = await approving;
    // Neither fails, and the order whose payment started before the closure is cancelled by it.
    expect([startError, approveError]).to.deep.equal([null, null]);
    expect((await knex()('orders').where('id', placed.id).first('status')).status).to.equal('cancelled');
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect((await deadlocks()) - before, 'approve() takes the person’s row first, as placing an order, starting its payment and closing do').to.equal(0);
  });
});
