import { expect } from 'chai';
import supertest from 'supertest';
import type { User } from '../../src/domain/people/users.js';
import { testDialect } from '../helpers/database.js';
import { csrfTokenFrom, logIn, type TestPortal } from '../helpers/portal.js';
import { balanceOf, captureCredits, orderSentToPayPal, pathOf, useShop } from '../helpers/topup.js';

describe(`a capture PayPal declines (${testDialect})`, () => {
  let portal: TestPortal;
  let termsId: number;
  let camille: User;
  let agent: ReturnType<typeof supertest.agent>;

  useShop((shop) => ({ portal, termsId, camille, agent } = shop));

  const callsTo = (method: string, path: string) => portal.simulator.requests.filter((request) => request.method === method && request.path === path).length;
  const statusOf = async (number: string) => (await portal.checkout.ownOrder(camille, { id: Number(number.slice(-6)) })).status;

  /** An order (for `fields`, a pack by default) whose card PayPal declined when the buyer came back; returns its numbers. */
  async function declined(fields?: Record<string, string>) {
    const { number, paypalOrderId } = await orderSentToPayPal({ portal, termsId, camille, agent }, fields);
    portal.simulator.setFault({ type: 'decline' }, { orderId: paypalOrderId });
    const back = await agent.get(pathOf(portal.simulator.approve(paypalOrderId)));
    expect(new URL(back.headers.location as string).origin, 'sent back to PayPal to pay another way').to.equal(new URL(portal.simulator.baseUrl).origin);
    await portal.simulator.flushWebhooks(); // the APPROVED webhook tried too: that approval is used up
    return { number, paypalOrderId, capturePath: `/v2/checkout/orders/${paypalOrderId}/capture`, orderPath: `/v2/checkout/orders/${paypalOrderId}` };
  }

  it('is never captured again by the reconciler, only looked up less and less often, and is credited once when the buyer approves again', async () => {
    const before = await balanceOf(portal, camille.id);
    const credits = await captureCredits(portal);
    const { number, paypalOrderId, capturePath, orderPath } = await declined();
    const captures = callsTo('POST', capturePath);
    const lookUps = callsTo('GET', orderPath);

    // Ten sweeps, 30 seconds apart: no capture, and a look-up only 1, 2 and 4 minutes after the decline.
    for (let sweep = 0; sweep < 10; sweep += 1) {
      portal.clock.advance(30_000);
      await portal.checkout.reconcile();
    }
    expect(callsTo('POST', capturePath), 'captures after the decline').to.equal(captures);
    expect(callsTo('GET', orderPath) - lookUps, 'look-ups').to.equal(3);
    expect(await statusOf(number), 'still waiting for the buyer').to.equal('awaiting_payment');
    const page = await agent.get(`/orders/${number}`).expect(200);
    expect(page.text).to.include('En attente de votre paiement sur PayPal.').and.include('Continuer vers PayPal');
    expect(await balanceOf(portal, camille.id)).to.equal(before);

    // The buyer pays another way and closes the tab: PayPal's new APPROVED webhook captures, once.
    portal.simulator.clearFaults();
    portal.simulator.approve(paypalOrderId);
    await portal.simulator.flushWebhooks();
    await portal.checkout.reconcile();
    expect(await statusOf(number)).to.equal('paid');
    expect(await balanceOf(portal, camille.id)).to.equal(before + 1000);
    expect(await captureCredits(portal)).to.equal(credits + 1);
  });

  it('lets the buyer approve again from the order page and credits once on their return', async () => {
    const before = await balanceOf(portal, camille.id);
    const { number, paypalOrderId } = await declined();
    portal.clock.advance(120_000);
    await portal.checkout.reconcile();
    const page = await agent.get(`/orders/${number}`);
    const again = await agent.post(`/orders/${number}/pay`).type('form').send({ _csrf: csrfTokenFrom(page.text) });
    expect(new URL(again.headers.location as string).searchParams.get('token')).to.equal(paypalOrderId);
    portal.simulator.clearFaults();
    const back = await agent.get(pathOf(portal.simulator.approve(paypalOrderId)));
    expect(back.headers.location).to.equal(`/orders/${number}`);
    await portal.simulator.flushWebhooks();
    expect(await statusOf(number)).to.equal('paid');
    expect(await balanceOf(portal, camille.id)).to.equal(before + 1000);
  });

  /** The order's events of `type` (instrument_declined, attention…), oldest first. */
  const eventsOf = async (number: string, type: string): Promise<Array<{ detail: string | null }>> =>
    portal.db.knex('order_events').where({ order_id: Number(number.slice(-6)), type }).orderBy('id').select('detail');

  it("captures the buyer's new approval even when PayPal answers that capture with a 500 once", async () => {
    const before = await balanceOf(portal, camille.id);
    const credits = await captureCredits(portal);
    const { number, paypalOrderId } = await declined();
    portal.clock.advance(60_000);
    portal.simulator.clearFaults();
    // The buyer approves again with another card and closes the tab; PayPal's first answer to the capture is a 500 (nothing done).
    portal.simulator.setFault({ type: 'http500', times: 1, operation: 'capture' }, { orderId: paypalOrderId });
    portal.simulator.approve(paypalOrderId);
    await portal.simulator.flushWebhooks();
    portal.clock.advance(60_000);
    await portal.checkout.reconcile();
    expect(await statusOf(number)).to.equal('paid');
    expect(await balanceOf(portal, camille.id)).to.equal(before + 1000);
    expect(await captureCredits(portal)).to.equal(credits + 1);
  });

  it("looks up at the next sweep a new approval whose capture PayPal took without answering, instead of waiting out the refusal's backoff", async () => {
    const before = await balanceOf(portal, camille.id);
    const { number, paypalOrderId } = await declined({ offer: 'pack-5' });
    // Half an hour of sweeps after the decline: the next look-up is now 18 minutes away.
    for (let sweep = 0; sweep < 10; sweep += 1) {
      portal.clock.advance(180_000);
      await portal.checkout.reconcile();
    }
    portal.simulator.clearFaults();
    portal.simulator.setWebhookUrl(null); // no webhook comes to help
    // The buyer approves again and comes back: PayPal captures but its answer is lost, and so is the look-up's.
    portal.simulator.setFault({ type: 'http500', times: 2, operation: 'any', afterEffect: true }, { orderId: paypalOrderId });
    await agent.get(pathOf(portal.simulator.approve(paypalOrderId)));
    expect(await statusOf(number), 'nothing known yet').to.equal('awaiting_payment');
    portal.clock.advance(60_000);
    await portal.checkout.reconcile();
    expect(await statusOf(number)).to.equal('paid');
    expect(await balanceOf(portal, camille.id)).to.equal(before + 500);
  });

  it('sends an approved order whose capture PayPal then declines back to awaiting payment: the buyer can pay it again or cancel it', async () => {
    const { number, paypalOrderId } = await orderSentToPayPal({ portal, termsId, camille, agent }, { offer: 'pack-20' });
    portal.simulator.setWebhookUrl(null); // the buyer approves and closes the tab; no webhook arrives
    portal.simulator.approve(paypalOrderId);
    portal.simulator.setFault({ type: 'http500', times: 1, operation: 'capture' }, { orderId: paypalOrderId });
    portal.clock.advance(60_000);
    await portal.checkout.reconcile();
    expect(await statusOf(number)).to.equal('approved');
    portal.simulator.clearFaults();
    portal.simulator.setFault({ type: 'decline' }, { orderId: paypalOrderId });
    portal.clock.advance(60_000);
    await portal.checkout.reconcile();
    expect(await statusOf(number)).to.equal('awaiting_payment');

    const page = await agent.get(`/orders/${number}`).expect(200);
    expect(page.text).to.include('En attente de votre paiement sur PayPal.').and.include('Continuer vers PayPal');
    expect(page.text, 'says why').to.include('PayPal a refusé le moyen de paiement choisi');
    const again = await agent.post(`/orders/${number}/pay`).type('form').send({ _csrf: csrfTokenFrom(page.text) });
    expect(new URL(again.headers.location as string).searchParams.get('token'), 'back to PayPal').to.equal(paypalOrderId);
    // At PayPal the buyer gives up: the cancel link cancels the order, PayPal having said it was not captured.
    const cancelled = await agent.get(pathOf(portal.simulator.cancel(paypalOrderId)));
    expect(cancelled.headers.location).to.equal(`/topup?cancelled=${number}`);
    expect(await statusOf(number)).to.equal('cancelled');
  });

  it('sends the buyer back to PayPal on another refusal only they can change (PAYER_ACTION_REQUIRED), and credits once when they approve again', async () => {
    const before = await balanceOf(portal, camille.id);
    const { number, paypalOrderId } = await orderSentToPayPal({ portal, termsId, camille, agent }, { offer: 'pack-50' });
    portal.simulator.setFault({ type: 'refuse', issue: 'PAYER_ACTION_REQUIRED' }, { orderId: paypalOrderId });
    const back = await agent.get(pathOf(portal.simulator.approve(paypalOrderId)));
    expect(back.headers.location, 'sent back to PayPal').to.match(new RegExp(`^${portal.simulator.baseUrl}/`));
    await portal.simulator.flushWebhooks();
    expect(await statusOf(number)).to.equal('awaiting_payment');
    expect((await eventsOf(number, 'instrument_declined')).map((event) => event.detail)).to.satisfy((details: string[]) => details.every((detail) => detail.includes('PAYER_ACTION_REQUIRED')));

    portal.simulator.clearFaults();
    const paid = await agent.get(pathOf(portal.simulator.approve(paypalOrderId)));
    expect(paid.headers.location).to.equal(`/orders/${number}`);
    await portal.simulator.flushWebhooks();
    expect(await statusOf(number)).to.equal('paid');
    expect(await balanceOf(portal, camille.id)).to.equal(before + 5750);
  });

  it("shows a refusal on the seller's side to the admins, not as the buyer's to fix, and captures again only with backoff", async () => {
    await portal.addUser('gestion', 'admin-password', { role: 'admin' });
    const before = await balanceOf(portal, camille.id);
    const { number, paypalOrderId } = await orderSentToPayPal({ portal, termsId, camille, agent }, { offer: 'free', amount: '12' });
    portal.simulator.setWebhookUrl(null); // only the return and the reconciler act
    portal.simulator.setFault({ type: 'refuse', issue: 'PAYEE_BLOCKED_TRANSACTION' }, { orderId: paypalOrderId });
    const capturePath = `/v2/checkout/orders/${paypalOrderId}/capture`;

    const back = await agent.get(pathOf(portal.simulator.approve(paypalOrderId)));
    expect(back.headers.location, 'not sent back to PayPal').to.equal(`/orders/${number}`);
    expect(await statusOf(number), 'the buyer did their part').to.equal('approved');
    const page = await agent.get(`/orders/${number}`).expect(200);
    expect(page.text).to.include('Paiement accepté par PayPal, en cours de finalisation.').and.not.include('Continuer vers PayPal');
    expect(await eventsOf(number, 'instrument_declined')).to.deep.equal([]);
    expect((await eventsOf(number, 'attention')).map((event) => event.detail)).to.have.length(1).and.satisfy((details: string[]) => details[0]!.includes('PAYEE_BLOCKED_TRANSACTION'));
    const admin = supertest.agent(portal.app);
    await logIn(admin, 'gestion', 'admin-password');
    const dashboard = (await admin.get('/admin').expect(200)).text;
    const problems = dashboard.slice(dashboard.indexOf('id="problems"'));
    expect(problems).to.include(number).and.include('À examiner').and.include('PAYEE_BLOCKED_TRANSACTION');

    // Ten sweeps, 30 seconds apart: the capture is tried again only 1, 2 and 4 minutes after the refusal.
    const captures = callsTo('POST', capturePath);
    for (let sweep = 0; sweep < 10; sweep += 1) {
      portal.clock.advance(30_000);
      await portal.checkout.reconcile();
    }
    expect(callsTo('POST', capturePath) - captures, 'captures tried again').to.equal(3);
    expect(await statusOf(number)).to.equal('approved');

    // The seller's account is put right: the next capture the reconciler tries goes through, credited once.
    portal.simulator.clearFaults();
    portal.clock.advance(8 * 60_000);
    await portal.checkout.reconcile();
    expect(await statusOf(number)).to.equal('paid');
    expect(await balanceOf(portal, camille.id)).to.equal(before + 1200);
    const captureIds = portal.simulator.requests.filter((request) => request.method === 'POST' && request.path === capturePath).map((request) => request.requestId);
    expect(new Set(captureIds).size, 'a new PayPal-Request-Id after each refusal').to.equal(captureIds.length);
  });

  it("holds a refusal on the seller's side for every path while its backoff runs: the buyer's reloads, webhooks and the cancel link only look it up", async () => {
    const { number, paypalOrderId } = await orderSentToPayPal({ portal, termsId, camille, agent }, { offer: 'free', amount: '13' });
    portal.simulator.setFault({ type: 'refuse', issue: 'COMPLIANCE_VIOLATION' }, { orderId: paypalOrderId });
    portal.simulator.setFault({ type: 'webhooks', reverseOrder: true }, { orderId: paypalOrderId }); // the APPROVED webhook comes after the return
    const capturePath = `/v2/checkout/orders/${paypalOrderId}/capture`;
    const returnPath = pathOf(portal.simulator.approve(paypalOrderId));
    await agent.get(returnPath);
    expect(await statusOf(number)).to.equal('approved');
    const captures = callsTo('POST', capturePath);
    expect(captures, "the return's capture").to.equal(1);

    for (let reload = 0; reload < 20; reload += 1) await agent.get(returnPath);
    const cancelPath = pathOf(portal.simulator.cancel(paypalOrderId));
    let cancelled = await agent.get(cancelPath);
    for (let click = 1; click < 5; click += 1) cancelled = await agent.get(cancelPath);
    await portal.simulator.flushWebhooks();
    expect(callsTo('POST', capturePath), 'no capture while the backoff runs').to.equal(captures);
    expect(await eventsOf(number, 'attention'), 'the admins are told once').to.have.length(1);
    expect(await statusOf(number)).to.equal('approved');
    expect(cancelled.headers.location).to.equal(`/orders/${number}?from=cancel`);
    const page = await agent.get(cancelled.headers.location as string).expect(200);
    expect(page.text).to.include('le paiement est retenu chez PayPal pour une raison du côté du vendeur').and.not.include('dès que PayPal l&#39;aura confirmé');

    // "Check with PayPal now" is an admin's explicit action: it tries at once.
    await portal.checkout.checkNow(await portal.checkout.ownOrder(camille, { id: Number(number.slice(-6)) }));
    expect(callsTo('POST', capturePath)).to.equal(captures + 1);
  });
});
