import { crc32 } from 'node:zlib';
import { expect } from 'chai';
import supertest from 'supertest';
import type { User } from '../../src/domain/people/users.js';
import type { WebhookDelivery } from '../../src/payments/paypal/simulator/index.js';
import { testDialect } from '../helpers/database.js';
import { createTestPortal, logIn, type TestPortal } from '../helpers/portal.js';
import { BUYER_PASSWORD, orderSentToPayPal, pathOf, publishOffers, restorePayments } from '../helpers/topup.js';
import { FORGED_BYTES, forgeCrc32 } from '../helpers/webhook-forgery.js';

const DAY_MS = 24 * 3600_000;

describe(`webhook transmissions replayed, stale or malformed (${testDialect})`, () => {
  let portal: TestPortal;
  let termsId: number;
  let camille: User;
  let agent: ReturnType<typeof supertest.agent>;

  before(async () => {
    portal = await createTestPortal();
    termsId = await publishOffers(portal);
    camille = await portal.addUser('camille', BUYER_PASSWORD);
  });
  beforeEach(async () => {
    agent = supertest.agent(portal.app);
    await logIn(agent, 'camille', BUYER_PASSWORD); // some tests move the clock days ahead
  });
  afterEach(() => restorePayments(portal));
  after(() => portal.cleanup());

  let amount = 5;
  /** A new order (each of another amount: the same offer again would bring back the open one), sent to PayPal. */
  const ordered = () => orderSentToPayPal({ portal, termsId, camille, agent }, { offer: 'free', amount: String((amount += 1)) });
  const statusOf = async (paypalOrderId: string) => (await portal.checkout.ownOrder(camille, { paypalOrderId })).status;
  const send = (body: string | Buffer, headers: Record<string, string>) => fetch(`${portal.baseUrl}/webhooks/paypal`, { method: 'POST', body, headers });
  const storedEvents = async (eventId: string) => (await portal.db.knex('webhook_events').where('event_id', eventId)).length;
  const capturesOf = (paypalOrderId: string) => portal.simulator.requests.filter((request) => request.path === `/v2/checkout/orders/${paypalOrderId}/capture`).length;

  /** An order approved at PayPal whose webhook was never delivered: what that delivery would have been. */
  async function approvedWithoutWebhook(): Promise<{ paypalOrderId: string; held: WebhookDelivery }> {
    portal.simulator.setWebhookUrl(null);
    const { paypalOrderId } = await ordered();
    portal.simulator.approve(paypalOrderId);
    await portal.simulator.flushWebhooks();
    const held = portal.simulator.deliveries.find((delivery) => delivery.status === null && delivery.body.includes(paypalOrderId))!;
    return { paypalOrderId, held };
  }

  /** `body` with `changes`, whose CRC-32 is that of `original`: it verifies with the original's signature. */
  const forgedLike = (original: string, body: string, changes: Record<string, unknown>) =>
    forgeCrc32(crc32(Buffer.from(original)) >>> 0, (attempt) => JSON.stringify({ ...JSON.parse(body), ...changes, attempt, padding: FORGED_BYTES }));

  it('answers a transmission seen before with 200 and does nothing, whatever body it now carries', async () => {
    const paid = await ordered();
    await agent.get(pathOf(portal.simulator.approve(paid.paypalOrderId)));
    await portal.simulator.flushWebhooks();
    const genuine = portal.simulator.deliveries.find((delivery) => delivery.body.includes(paid.paypalOrderId) && delivery.status === 200)!;

    // The attacker replays that transmission with a body about another order, approved but not captured yet.
    const { paypalOrderId, held } = await approvedWithoutWebhook();
    const forged = forgedLike(genuine.body, held.body, { id: 'WH-0REPLAYED0000000-00000000000000000' });
    expect(crc32(forged)).to.equal(crc32(Buffer.from(genuine.body)));
    const captures = capturesOf(paypalOrderId);
    const replay = await send(forged, genuine.headers);
    expect(replay.status).to.equal(200);
    expect(await replay.json()).to.deep.equal({ status: 'duplicate' });
    expect(await storedEvents('WH-0REPLAYED0000000-00000000000000000')).to.equal(0);
    expect(capturesOf(paypalOrderId), 'nothing asked of PayPal').to.equal(captures);
    expect(await statusOf(paypalOrderId)).to.equal('awaiting_payment');

    // PayPal's own delivery of that order still works.
    expect((await send(held.body, held.headers)).status).to.equal(200);
    expect(await statusOf(paypalOrderId)).to.equal('paid');
  });

  it("accepts PayPal's last retry three days on, and refuses a transmission older than four days or dated ahead (400), storing nothing", async () => {
    const retried = await approvedWithoutWebhook();
    const stale = await approvedWithoutWebhook();
    const early = await approvedWithoutWebhook();

    portal.clock.advance(-3600_000); // the portal's clock an hour behind PayPal's
    const ahead = await send(early.held.body, early.held.headers);
    expect(ahead.status).to.equal(400);
    expect(await ahead.json()).to.deep.equal({ error: 'stale_transmission' });
    portal.clock.advance(3600_000);

    portal.clock.advance(3 * DAY_MS);
    expect((await send(retried.held.body, retried.held.headers)).status).to.equal(200);
    expect(await storedEvents(JSON.parse(retried.held.body).id)).to.equal(1);

    portal.clock.advance(DAY_MS + 60_000);
    const old = await send(stale.held.body, stale.held.headers);
    expect(old.status).to.equal(400);
    expect(await old.json()).to.deep.equal({ error: 'stale_transmission' });
    for (const [name, { held }] of Object.entries({ stale, early })) expect(await storedEvents(JSON.parse(held.body).id), name).to.equal(0);
  });

  it('forgets transmissions older than the window at the next sweep', async () => {
    const { held } = await approvedWithoutWebhook();
    expect((await send(held.body, held.headers)).status).to.equal(200);
    const transmissions = () => portal.db.knex('webhook_transmissions').where('transmission_id', held.headers['paypal-transmission-id']!);
    expect(await transmissions()).to.have.length(1);
    portal.clock.advance(4 * DAY_MS - 60_000);
    await portal.checkout.reconcile();
    expect(await transmissions(), 'still in the window').to.have.length(1);
    portal.clock.advance(2 * 60_000);
    await portal.checkout.reconcile();
    expect(await transmissions()).to.have.length(0);
  });

  it("refuses an event id or type unlike PayPal's, or a malformed transmission id or time, with 400 before storing anything", async () => {
    const { paypalOrderId, held } = await approvedWithoutWebhook();
    const badIds = ['<img src=x onerror=alert(1)>', 'wh-lowercase-1', `WH-${'A'.repeat(70)}`, 'WH-', '../../etc/passwd'];
    for (const id of badIds) {
      const answer = await send(forgedLike(held.body, held.body, { id }), held.headers);
      expect(answer.status, id).to.equal(400);
      expect(await answer.json()).to.deep.equal({ error: 'malformed_event' });
      expect(await storedEvents(id)).to.equal(0);
    }
    const badType = await send(forgedLike(held.body, held.body, { event_type: 'CHECKOUT.ORDER.APPROVED\u0000<script>' }), held.headers);
    expect(badType.status).to.equal(400);
    const badHeaders: Array<Record<string, string>> = [
      { 'paypal-transmission-id': 'x'.repeat(51) },
      { 'paypal-transmission-id': '1234567890' },
      { 'paypal-transmission-id': 'ab cd ef gh' },
      { 'paypal-transmission-time': 'yesterday' },
      { 'paypal-transmission-time': '2026-13-45T99:00:00Z' },
    ];
    for (const header of badHeaders) {
      const answer = await send(held.body, { ...held.headers, ...header });
      expect(answer.status, JSON.stringify(header)).to.equal(400);
      expect(await answer.json()).to.deep.equal({ error: 'malformed_transmission' });
    }
    expect(await portal.db.knex('webhook_transmissions').where('transmission_id', held.headers['paypal-transmission-id']!)).to.have.length(0);
    expect(await statusOf(paypalOrderId)).to.equal('awaiting_payment');
    expect((await send(held.body, held.headers)).status, 'the genuine delivery').to.equal(200);
  });
});
