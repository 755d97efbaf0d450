import { expect } from 'chai';
import { orderRequest, startTestSimulator, type TestSimulator } from './helpers.js';

describe('PayPal simulator: fault injection', () => {
  let sim: TestSimulator;
  before(async () => {
    sim = await startTestSimulator();
  });
  afterEach(() => sim.simulator.clearFaults());
  after(() => sim.simulator.stop());

  const capture = (orderId: string, headers: Record<string, string> = {}) =>
    sim.call('POST', `/v2/checkout/orders/${orderId}/capture`, { headers: { Prefer: 'return=representation', ...headers } });
  const captureCount = async (orderId: string) =>
    ((await sim.call('GET', `/v2/checkout/orders/${orderId}`)).body.purchase_units[0].payments?.captures ?? []).length as number;

  it('decline: 422 INSTRUMENT_DECLINED with a redirect to the approval page; the buyer must approve again', async () => {
    const orderId = await sim.approvedOrder();
    sim.simulator.setFault({ type: 'decline' }, { orderId });
    const declined = await capture(orderId);
    expect(declined.status).to.equal(422);
    expect(declined.body.details[0].issue).to.equal('INSTRUMENT_DECLINED');
    expect(declined.body.links).to.deep.include({ href: `${sim.baseUrl}/checkoutnow?token=${orderId}`, rel: 'redirect', method: 'GET' });
    const order = await sim.call('GET', `/v2/checkout/orders/${orderId}`);
    expect(order.body.status).to.equal('APPROVED');
    expect(order.body.links.map((link: { rel: string }) => link.rel)).to.deep.equal(['self', 'payer-action']);

    sim.simulator.clearFaults();
    expect((await capture(orderId)).body.details[0].issue, 'same instrument, no new approval').to.equal('INSTRUMENT_DECLINED');
    sim.simulator.approve(orderId);
    const paid = await capture(orderId);
    expect(paid.status).to.equal(201);
    expect(paid.body.purchase_units[0].payments.captures[0].status).to.equal('COMPLETED');
  });

  it('refuse: 422 with the issue asked for, nothing captured, the order still APPROVED until the fault is cleared', async () => {
    const orderId = await sim.approvedOrder();
    sim.simulator.setFault({ type: 'refuse', issue: 'PAYEE_BLOCKED_TRANSACTION' }, { orderId });
    const refused = await capture(orderId);
    expect(refused.status).to.equal(422);
    expect(refused.body.details[0]).to.deep.include({ issue: 'PAYEE_BLOCKED_TRANSACTION', description: 'The Fraud settings for this seller are such that this payment cannot be executed.' });
    expect((await capture(orderId)).status, 'refused for as long as it is set').to.equal(422);
    expect((await sim.call('GET', `/v2/checkout/orders/${orderId}`)).body.status).to.equal('APPROVED');
    expect(await captureCount(orderId)).to.equal(0);
    sim.simulator.clearFaults();
    expect((await capture(orderId)).status).to.equal(201);
  });

  it('applies a fault scoped to one order to that order only', async () => {
    const declinedOrder = await sim.approvedOrder();
    const otherOrder = await sim.approvedOrder();
    sim.simulator.setFault({ type: 'decline' }, { orderId: declinedOrder });
    expect((await capture(otherOrder)).status).to.equal(201);
    expect((await capture(declinedOrder)).status).to.equal(422);
  });

  it('pending: the capture is PENDING (PENDING_REVIEW) on a COMPLETED order until completePendingCapture', async () => {
    const orderId = await sim.approvedOrder();
    sim.simulator.setFault({ type: 'pending' });
    const captured = await capture(orderId);
    expect(captured.status).to.equal(201);
    expect(captured.body.status).to.equal('COMPLETED');
    const pending = captured.body.purchase_units[0].payments.captures[0];
    expect(pending).to.deep.include({ status: 'PENDING', status_details: { reason: 'PENDING_REVIEW' } });
    expect(pending).not.to.have.property('seller_receivable_breakdown');

    sim.simulator.completePendingCapture(orderId);
    const completed = (await sim.call('GET', `/v2/payments/captures/${pending.id}`)).body;
    expect(completed.status).to.equal('COMPLETED');
    expect(completed).not.to.have.property('status_details');
    expect(() => sim.simulator.completePendingCapture(orderId)).to.throw(/COMPLETED, not PENDING/);
  });

  it('pending with a reason, then denied', async () => {
    const orderId = await sim.approvedOrder();
    sim.simulator.setFault({ type: 'pending', reason: 'ECHECK' }, { orderId });
    const captureId = (await capture(orderId)).body.purchase_units[0].payments.captures[0].id as string;
    expect((await sim.call('GET', `/v2/payments/captures/${captureId}`)).body.status_details).to.deep.equal({ reason: 'ECHECK' });
    sim.simulator.denyPendingCapture(orderId);
    expect((await sim.call('GET', `/v2/payments/captures/${captureId}`)).body.status).to.equal('DECLINED');
  });

  it('http500 before the effect: nothing happens, the retry succeeds', async () => {
    const orderId = await sim.approvedOrder();
    sim.simulator.setFault({ type: 'http500', times: 2, operation: 'capture' });
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const failed = await capture(orderId);
      expect(failed.status).to.equal(500);
      expect(failed.body).to.include({ name: 'INTERNAL_SERVER_ERROR', message: 'An internal server error occurred.' });
    }
    expect(await captureCount(orderId)).to.equal(0);
    expect((await capture(orderId)).status).to.equal(201);
  });

  it('http500 after the effect: PayPal captured, the answer is lost; a retry with the same request id gets it', async () => {
    const orderId = await sim.approvedOrder();
    sim.simulator.setFault({ type: 'http500', times: 1, afterEffect: true }, { orderId });
    const headers = { 'PayPal-Request-Id': `capture-${orderId}` };
    expect((await capture(orderId, headers)).status).to.equal(500);
    const order = await sim.call('GET', `/v2/checkout/orders/${orderId}`);
    expect(order.body.status).to.equal('COMPLETED');
    expect(await captureCount(orderId)).to.equal(1);
    const retried = await capture(orderId, headers);
    expect(retried.status).to.equal(200);
    expect(retried.body.purchase_units[0].payments.captures[0].id).to.equal(order.body.purchase_units[0].payments.captures[0].id);
  });

  it('only counts calls of the faulted operation', async () => {
    sim.simulator.setFault({ type: 'http500', times: 1, operation: 'get' });
    const orderId = await sim.createOrder();
    expect((await sim.call('GET', `/v2/checkout/orders/${orderId}`)).status).to.equal(500);
    expect((await sim.call('GET', `/v2/checkout/orders/${orderId}`)).status).to.equal(200);
  });

  it('fails token requests too', async () => {
    sim.simulator.setFault({ type: 'http500', times: 1, operation: 'token' });
    const { clientId, clientSecret } = sim.simulator.credentials;
    const answer = await sim.call('POST', '/v1/oauth2/token', {
      anonymous: true,
      rawBody: 'grant_type=client_credentials',
      headers: { Authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    expect(answer.status).to.equal(500);
  });

  it('delay: the operation is performed at once and answered late, so a client that gave up finds it done', async () => {
    const orderId = await sim.approvedOrder();
    sim.simulator.setFault({ type: 'delay', ms: 2_000, operation: 'capture' }, { orderId });
    const impatient = await fetch(`${sim.baseUrl}/v2/checkout/orders/${orderId}/capture`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${sim.token}` },
      signal: AbortSignal.timeout(100),
    }).then(
      () => 'answered',
      (error: Error) => error.name,
    );
    expect(impatient).to.equal('TimeoutError');
    expect((await sim.call('GET', `/v2/checkout/orders/${orderId}`)).body.status).to.equal('COMPLETED');
  });

  it('delay answers normally once late', async () => {
    sim.simulator.setFault({ type: 'delay', ms: 50 });
    const created = await sim.call('POST', '/v2/checkout/orders', { body: orderRequest() });
    expect(created.status).to.equal(201);
    expect(created.body.status).to.equal('PAYER_ACTION_REQUIRED');
  });

  it('garbled: performed, then a 2xx whose body is not JSON', async () => {
    sim.simulator.setFault({ type: 'garbled', operation: 'create' });
    const request = orderRequest();
    const garbled = await sim.call('POST', '/v2/checkout/orders', { body: request, headers: { 'PayPal-Request-Id': 'garbled-create' } });
    expect(garbled.status).to.equal(201);
    expect(garbled.text).not.to.equal('');
    expect(() => JSON.parse(garbled.text)).to.throw(SyntaxError);
    const replayed = await sim.call('POST', '/v2/checkout/orders', { body: request, headers: { 'PayPal-Request-Id': 'garbled-create' } });
    expect(replayed.status).to.equal(200);
    expect((await sim.call('GET', `/v2/checkout/orders/${replayed.body.id}`)).status).to.equal(200);
  });

  describe('control API', () => {
    it('sets and clears faults over HTTP, refusing what is not a fault', async () => {
      const set = (body: unknown) => fetch(`${sim.baseUrl}/simulator/faults`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      expect((await set({ fault: { type: 'http500', times: 1, operation: 'create' } })).status).to.equal(204);
      expect((await sim.call('POST', '/v2/checkout/orders', { body: orderRequest() })).status).to.equal(500);
      expect((await set({ fault: { type: 'http500', times: 1 } })).status).to.equal(204);
      expect((await fetch(`${sim.baseUrl}/simulator/faults`, { method: 'DELETE' })).status).to.equal(204);
      expect((await sim.call('POST', '/v2/checkout/orders', { body: orderRequest() })).status).to.equal(201);
      const refused = await set({ fault: { type: 'meteor' } });
      expect(refused.status).to.equal(400);
      expect(((await refused.json()) as { error: string }).error).to.match(/fault.type/);
      expect((await set({ fault: { type: 'http500', times: -1 } })).status).to.equal(400);
      expect((await set({ fault: { type: 'refuse', issue: 'not an issue' } })).status).to.equal(400);
    });

    it('acts as the buyer and as PayPal on an order', async () => {
      const orderId = await sim.createOrder();
      const act = (action: string, body: unknown = {}) =>
        fetch(`${sim.baseUrl}/simulator/orders/${orderId}/${action}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      const approved = (await (await act('approve', { payerId: 'ABCDEFGHJKLMN' })).json()) as { redirectUrl: string; order: { status: string } };
      expect(approved.redirectUrl).to.equal(`https://portal.example/topup/return?token=${orderId}&PayerID=ABCDEFGHJKLMN`);
      expect(approved.order.status).to.equal('APPROVED');
      expect((await capture(orderId)).status).to.equal(201);
      expect((await act('refund', { amount: '4.00' })).status).to.equal(200);
      const reversed = (await (await act('reverse')).json()) as { order: { purchase_units: Array<{ payments: { captures: Array<{ status: string }> } }> } };
      expect(reversed.order.purchase_units[0]?.payments.captures[0]?.status).to.equal('REVERSED');
      const refused = await act('complete-pending');
      expect(refused.status).to.equal(409);
      expect((await act('explode')).status).to.equal(404);
    });
  });
});
