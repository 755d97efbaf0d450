import { expect } from 'chai';
import supertest from 'supertest';
import type { User } from '../../src/domain/people/users.js';
import { createGatewayFromConfig } from '../../src/payments/paypal/from-config.js';
import { testDialect } from '../helpers/database.js';
import { logIn, type TestPortal } from '../helpers/portal.js';
import { balanceOf, BUYER_PASSWORD, captureCredits, orderSentToPayPal, pathOf, pay, placeOrder, useShop } from '../helpers/topup.js';


describe(`payments when PayPal or the network misbehave (${testDialect})`, () => {
  let portal: TestPortal;
  let termsId: number;
  let camille: User;
  let agent: ReturnType<typeof supertest.agent>;

  useShop((shop) => ({ portal, termsId, camille, agent } = shop), { PAYPAL_TIMEOUT_MS: '500' });

  /** An order for 10 units, sent to PayPal; the buyer has not approved yet. */
  const ordered = (pack = 'pack-10') => orderSentToPayPal({ portal, termsId, camille, agent }, { offer: pack });
  const statusOf = async (number: string) => (await portal.checkout.ownOrder(camille, { id: Number(number.slice(-6)) })).status;

  for (const [name, fault] of [
    ['answers 500 before capturing', { type: 'http500', times: 1, operation: 'capture' }],
    ['captures, then answers 500', { type: 'http500', times: 1, operation: 'capture', afterEffect: true }],
    ['captures, then answers after our timeout', { type: 'delay', ms: 1500, operation: 'capture' }],
    ['captures, then answers something unreadable', { type: 'garbled', operation: 'capture' }],
  ] as const) {
    it(`credits once when PayPal ${name}`, async () => {
      const before = await balanceOf(portal, camille.id);
      const credits = await captureCredits(portal);
      const { number, paypalOrderId } = await ordered();
      portal.simulator.setFault(fault, { orderId: paypalOrderId });
      const back = await agent.get(pathOf(portal.simulator.approve(paypalOrderId)));
      expect(back.headers.location).to.equal(`/orders/${number}`);
      await portal.simulator.flushWebhooks();
      await portal.checkout.reconcile();
      expect(await statusOf(number)).to.equal('paid');
      expect(await balanceOf(portal, camille.id)).to.equal(before + 1000);
      expect(await captureCredits(portal)).to.equal(credits + 1);
    });
  }

  it('shows "processing" for a pending capture and credits once when PayPal completes it', async () => {
    const before = await balanceOf(portal, camille.id);
    const { number, paypalOrderId } = await ordered();
    portal.simulator.setFault({ type: 'pending' }, { orderId: paypalOrderId });
    await agent.get(pathOf(portal.simulator.approve(paypalOrderId)));
    const page = await agent.get(`/orders/${number}`);
    expect(page.text).to.include('Paiement en cours de traitement par PayPal.');
    expect(await balanceOf(portal, camille.id)).to.equal(before);
    portal.simulator.completePendingCapture(paypalOrderId);
    await portal.simulator.flushWebhooks();
    expect(await statusOf(number)).to.equal('paid');
    expect(await balanceOf(portal, camille.id)).to.equal(before + 1000);
  });

  it('fails a pending capture that PayPal denies, crediting nothing', async () => {
    const before = await balanceOf(portal, camille.id);
    const { number, paypalOrderId } = await ordered();
    portal.simulator.setFault({ type: 'pending' }, { orderId: paypalOrderId });
    await agent.get(pathOf(portal.simulator.approve(paypalOrderId)));
    portal.simulator.denyPendingCapture(paypalOrderId);
    await portal.simulator.flushWebhooks();
    expect(await statusOf(number)).to.equal('failed');
    expect(await balanceOf(portal, camille.id)).to.equal(before);
  });

  it('sends the buyer back to PayPal when the card is declined, and credits after a second approval', async () => {
    const before = await balanceOf(portal, camille.id);
    const { number, paypalOrderId } = await ordered();
    portal.simulator.setFault({ type: 'decline' }, { orderId: paypalOrderId });
    const declined = await agent.get(pathOf(portal.simulator.approve(paypalOrderId)));
    expect(new URL(declined.headers.location as string).origin).to.equal(new URL(portal.simulator.baseUrl).origin);
    expect(await balanceOf(portal, camille.id)).to.equal(before);
    portal.simulator.clearFaults();
    await agent.get(pathOf(portal.simulator.approve(paypalOrderId)));
    expect(await statusOf(number)).to.equal('paid');
    expect(await balanceOf(portal, camille.id)).to.equal(before + 1000);
  });

  it('captures on the APPROVED webhook when the buyer never comes back', async () => {
    const before = await balanceOf(portal, camille.id);
    const { number, paypalOrderId } = await ordered();
    portal.simulator.approve(paypalOrderId);
    await portal.simulator.flushWebhooks();
    expect(await statusOf(number)).to.equal('paid');
    expect(await balanceOf(portal, camille.id)).to.equal(before + 1000);
  });

  it('lets the reconciler capture and credit when every webhook is lost, and a second sweep changes nothing', async () => {
    const before = await balanceOf(portal, camille.id);
    portal.simulator.setWebhookUrl(null);
    const { number, paypalOrderId } = await ordered();
    portal.simulator.approve(paypalOrderId);
    expect((await portal.checkout.reconcile()).changed).to.be.at.least(1);
    expect(await statusOf(number)).to.equal('paid');
    const again = await portal.checkout.reconcile();
    expect(again.changed).to.equal(0);
    expect(await balanceOf(portal, camille.id)).to.equal(before + 1000);
  });

  it('expires orders nobody paid in time', async () => {
    const sent = await ordered();
    const unsent = await placeOrder(agent, { offer: 'pack-5', terms: String(termsId) });
    portal.clock.advance(181 * 60_000);
    await portal.checkout.reconcile();
    expect(await statusOf(sent.number)).to.equal('expired');
    expect(await statusOf(unsent)).to.equal('expired');
    await logIn(agent, 'camille', BUYER_PASSWORD); // three idle hours also ended the session
  });

  it('refuses webhooks without PayPal headers (400), with a bad signature or a tampered body (401), and ignores replays', async () => {
    const before = await balanceOf(portal, camille.id);
    const { paypalOrderId } = await ordered();
    portal.simulator.approve(paypalOrderId);
    await portal.simulator.flushWebhooks();
    const delivered = portal.simulator.deliveries.find((delivery) => delivery.body.includes(paypalOrderId) && delivery.status === 200);
    expect(delivered).to.not.equal(undefined);
    const send = (body: string, headers: Record<string, string>) =>
      fetch(`${portal.baseUrl}/webhooks/paypal`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
    const { body, headers } = delivered!;
    expect((await send(body, {})).status).to.equal(400);
    expect((await send(body, { ...headers, 'paypal-transmission-sig': Buffer.from('forged').toString('base64') })).status).to.equal(401);
    expect((await send(body.replace('10.00', '1000.00'), headers)).status).to.equal(401);
    expect((await send(body, { ...headers, 'paypal-cert-url': 'https://evil.example/cert.pem' })).status).to.equal(401);
    expect((await send(body, { ...headers, 'paypal-cert-url': `${headers['paypal-cert-url']}?x=1` })).status).to.equal(401);
    const replay = await send(body, headers);
    expect(replay.status).to.equal(200);
    expect(await replay.json()).to.deep.equal({ status: 'duplicate' });
    expect(await balanceOf(portal, camille.id)).to.equal(before + 1000);
  });

  it('takes units back on a refund made at PayPal, in proportion, and flags an account it takes below zero', async () => {
    const spender = await portal.addUser('spender', BUYER_PASSWORD);
    const buyer = supertest.agent(portal.app);
    await logIn(buyer, 'spender', BUYER_PASSWORD);
    const number = await placeOrder(buyer, { offer: 'pack-20', terms: String(termsId) }); // 20,00 € → 22 units
    const paypalOrderId = await pay(buyer, portal, number);
    await buyer.get(pathOf(portal.simulator.approve(paypalOrderId)));
    expect(await balanceOf(portal, spender.id)).to.equal(2200);

    portal.simulator.refundCapture(paypalOrderId, '5.00');
    await portal.simulator.flushWebhooks();
    expect((await portal.checkout.ownOrder(spender, { paypalOrderId })).status).to.equal('partially_refunded');
    expect(await balanceOf(portal, spender.id)).to.equal(2200 - 550); // a quarter of 22 units

    const account = await portal.ledger.userAccount(spender.id);
    const print = await portal.db.knex('accounts').where('code', 'system:usage:print').first();
    await portal.ledger.post({ idempotencyKey: 'spend-all', kind: 'usage', lines: [{ accountId: account.id, amount: -1650 }, { accountId: Number(print.id), amount: 1650 }] });
    portal.simulator.refundCapture(paypalOrderId);
    await portal.simulator.flushWebhooks();
    expect((await portal.checkout.ownOrder(spender, { paypalOrderId })).status).to.equal('refunded');
    expect(await balanceOf(portal, spender.id)).to.equal(-1650);
    expect((await portal.db.knex('accounts').where('id', account.id).first()).flagged).to.be.oneOf([true, 1]);
  });

  it('takes every unit back on a chargeback', async () => {
    const before = await balanceOf(portal, camille.id);
    const { number, paypalOrderId } = await ordered();
    await agent.get(pathOf(portal.simulator.approve(paypalOrderId)));
    portal.simulator.reverseCapture(paypalOrderId);
    await portal.simulator.flushWebhooks();
    expect(await statusOf(number)).to.equal('reversed');
    expect(await balanceOf(portal, camille.id)).to.equal(before);
  });

  it('never expires an order PayPal captured, even when a look-up fails, and credits it once PayPal answers', async () => {
    const before = await balanceOf(portal, camille.id);
    portal.simulator.setWebhookUrl(null);
    const { number, paypalOrderId } = await ordered();
    portal.simulator.approve(paypalOrderId);
    await createGatewayFromConfig(portal.config.payments, portal.simulator.baseUrl).capture(paypalOrderId, `outside-${paypalOrderId}`);
    portal.clock.advance(181 * 60_000);
    portal.simulator.setFault({ type: 'http500', times: 5, operation: 'get' }, { orderId: paypalOrderId });
    await portal.checkout.reconcile();
    expect(await statusOf(number)).to.equal('awaiting_payment');
    portal.simulator.clearFaults();
    await portal.checkout.reconcile();
    expect(await statusOf(number)).to.equal('paid');
    expect(await balanceOf(portal, camille.id)).to.equal(before + 1000);
    await logIn(agent, 'camille', BUYER_PASSWORD);
  });

  it('credits a payment that completes after its order was closed, rather than lose it', async () => {
    const before = await balanceOf(portal, camille.id);
    portal.simulator.setWebhookUrl(null);
    const { number, paypalOrderId } = await ordered();
    await agent.get(pathOf(portal.simulator.cancel(paypalOrderId)));
    expect(await statusOf(number)).to.equal('cancelled');
    portal.simulator.approve(paypalOrderId); // the buyer went back to PayPal's tab and paid anyway
    await createGatewayFromConfig(portal.config.payments, portal.simulator.baseUrl).capture(paypalOrderId, `outside-${paypalOrderId}`);
    await portal.checkout.reconcile();
    expect(await statusOf(number)).to.equal('paid');
    expect(await balanceOf(portal, camille.id)).to.equal(before + 1000);
  });

  it('answers 503 to a webhook it could not act on, so that PayPal redelivers it', async () => {
    const before = await balanceOf(portal, camille.id);
    const { number, paypalOrderId } = await ordered();
    await agent.get(pathOf(portal.simulator.approve(paypalOrderId)));
    await portal.simulator.flushWebhooks();
    portal.simulator.setFault({ type: 'http500', times: 100, operation: 'get' }, { orderId: paypalOrderId });
    portal.simulator.refundCapture(paypalOrderId);
    await portal.simulator.flushWebhooks();
    const refunded = portal.simulator.deliveries.filter((delivery) => delivery.eventType === 'PAYMENT.CAPTURE.REFUNDED' && delivery.body.includes(paypalOrderId));
    expect(refunded.map((delivery) => delivery.status)).to.include(503).and.not.include(200);
    expect(await statusOf(number)).to.equal('paid');
    portal.simulator.clearFaults();
    const { body, headers } = refunded[0]!;
    expect((await fetch(`${portal.baseUrl}/webhooks/paypal`, { method: 'POST', body, headers })).status).to.equal(200);
    expect(await statusOf(number)).to.equal('refunded');
    expect(await balanceOf(portal, camille.id)).to.equal(before);
  });

  it('takes back each partial refund on its own, whatever amounts and order, and the rest with the last one', async () => {
    const before = await balanceOf(portal, camille.id);
    const { number, paypalOrderId } = await ordered('pack-20'); // 20,00 € → 22 units
    await agent.get(pathOf(portal.simulator.approve(paypalOrderId)));
    for (const [value, expected] of [['1.67', 2200 - 183], ['3.33', 2200 - 183 - 366], ['15.00', 0]] as const) {
      portal.simulator.refundCapture(paypalOrderId, value);
      await portal.simulator.flushWebhooks();
      await portal.checkout.reconcile();
      expect(await balanceOf(portal, camille.id), value).to.equal(before + expected);
    }
    expect(await statusOf(number)).to.equal('refunded');
    // One accounting row per refund, once, with its VAT (20 % included), next to the posting that took the units back.
    const order = await portal.db.knex('orders').where('paypal_order_id', paypalOrderId).first();
    const refunds = await portal.db.knex('payment_refunds').where('order_id', order.id).orderBy('amount_cents');
    expect(refunds.map((row) => [Number(row.amount_cents), Number(row.net_cents), Number(row.vat_cents)])).to.deep.equal([
      [167, 139, 28],
      [333, 278, 55],
      [1500, 1250, 250],
    ]);
    const postings = await portal.db.knex('ledger_transactions').whereIn('id', refunds.map((row) => row.ledger_transaction_id));
    expect(postings.map((row) => row.idempotency_key).sort()).to.deep.equal(refunds.map((row) => `paypal-refund:${row.refund_id}`).sort());
  });

  it('refuses a delivery signed for another webhook listener', async () => {
    const { paypalOrderId } = await ordered();
    portal.simulator.approve(paypalOrderId);
    await portal.simulator.flushWebhooks();
    const delivered = portal.simulator.deliveries.find((delivery) => delivery.body.includes(paypalOrderId))!;
    const otherListener = createGatewayFromConfig({ ...portal.config.payments, webhookId: 'ANOTHER-LISTENER' }, portal.simulator.baseUrl);
    const error = await otherListener.verifyWebhook(delivered.headers, Buffer.from(delivered.body)).catch((caught: unknown) => caught as Error);
    expect(error).to.have.property('reason', 'bad_signature');
  });

  it('ends with the same ledger whatever order APPROVED, CAPTURE.COMPLETED and REFUNDED arrive in', async () => {
    const outsider = createGatewayFromConfig(portal.config.payments, portal.simulator.baseUrl);
    const permutations = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
    const outcomes = [];
    for (const permutation of permutations) {
      const before = await balanceOf(portal, camille.id);
      portal.simulator.setWebhookUrl(null);
      const { number, paypalOrderId } = await ordered();
      portal.simulator.approve(paypalOrderId);
      await outsider.capture(paypalOrderId, `outside-${paypalOrderId}`); // captured without us, so that all three events exist
      portal.simulator.refundCapture(paypalOrderId);
      await portal.simulator.flushWebhooks();
      const held = portal.simulator.deliveries.filter((delivery) => delivery.body.includes(paypalOrderId) && delivery.status === null);
      const byType = (type: string) => held.find((delivery) => delivery.eventType === type)!;
      const events = [byType('CHECKOUT.ORDER.APPROVED'), byType('PAYMENT.CAPTURE.COMPLETED'), byType('PAYMENT.CAPTURE.REFUNDED')];
      for (const index of permutation) {
        const { body, headers } = events[index]!;
        const response = await fetch(`${portal.baseUrl}/webhooks/paypal`, { method: 'POST', body, headers });
        expect(response.status).to.equal(200);
      }
      const order = await portal.checkout.ownOrder(camille, { id: Number(number.slice(-6)) });
      const postings = await portal.db.knex('ledger_transactions').where('description', 'like', `${number}%`).orderBy('id').pluck('kind');
      outcomes.push({ status: order.status, change: (await balanceOf(portal, camille.id)) - before, postings });
    }
    expect(outcomes).to.deep.equal(Array(6).fill({ status: 'refunded', change: 0, postings: ['top_up', 'reversal'] }));
  });
});
