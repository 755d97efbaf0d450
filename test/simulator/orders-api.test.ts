import { expect } from 'chai';
import { createPayPalSimulator } from '../../src/payments/paypal/simulator/index.js';
import { orderRequest, startTestSimulator, until, type TestSimulator } from './helpers.js';

describe('PayPal simulator: OAuth and Orders v2', () => {
  let now = new Date('2026-03-01T09:00:00Z').getTime();
  let sim: TestSimulator;
  before(async () => {
    sim = await startTestSimulator({ now: () => new Date(now) });
  });
  after(() => sim.simulator.stop());

  describe('authentication', () => {
    const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
    const tokenRequest = (authorization: string, body = 'grant_type=client_credentials') =>
      sim.call('POST', '/v1/oauth2/token', { anonymous: true, rawBody: body, headers: { Authorization: authorization, 'Content-Type': 'application/x-www-form-urlencoded' } });

    it('issues a 9-hour bearer token for the right client credentials', async () => {
      const answer = await tokenRequest(basic('sim-client-id', 'sim-client-secret'));
      expect(answer.status).to.equal(200);
      expect(answer.body).to.include({ token_type: 'Bearer', expires_in: 32400 });
      expect(answer.body.access_token).to.be.a('string').with.length.above(20);
      expect(answer.body).to.have.all.keys('scope', 'access_token', 'token_type', 'app_id', 'expires_in', 'nonce');
    });

    it('refuses wrong credentials and other grants', async () => {
      const wrong = await tokenRequest(basic('sim-client-id', 'not-the-secret'));
      expect(wrong.status).to.equal(401);
      expect(wrong.body).to.deep.equal({ error: 'invalid_client', error_description: 'Client Authentication failed' });
      expect((await tokenRequest('', 'grant_type=client_credentials')).status).to.equal(401);
      const grant = await tokenRequest(basic('sim-client-id', 'sim-client-secret'), 'grant_type=password');
      expect(grant.status).to.equal(400);
      expect(grant.body.error).to.equal('unsupported_grant_type');
    });

    it('requires a bearer token it issued, still valid, on every API call', async () => {
      const orderId = await sim.createOrder();
      const attempts: Array<Record<string, string>> = [{}, { Authorization: 'Bearer made-up-token' }, { Authorization: basic('sim-client-id', 'sim-client-secret') }];
      for (const headers of attempts) {
        const answer = await sim.call('GET', `/v2/checkout/orders/${orderId}`, { anonymous: true, headers });
        expect(answer.status).to.equal(401);
        expect(answer.body.name).to.equal('AUTHENTICATION_FAILURE');
      }
      now += 9 * 3600_000;
      try {
        expect((await sim.call('GET', `/v2/checkout/orders/${orderId}`)).status).to.equal(401);
      } finally {
        now -= 9 * 3600_000;
      }
      expect((await sim.call('GET', `/v2/checkout/orders/${orderId}`)).status).to.equal(200);
    });
  });

  describe('creating an order', () => {
    it('answers 201 with a minimal order: PAYER_ACTION_REQUIRED and a payer-action link to its approval page', async () => {
      const answer = await sim.call('POST', '/v2/checkout/orders', { body: orderRequest() });
      expect(answer.status).to.equal(201);
      expect(answer.body).to.have.all.keys('id', 'status', 'payment_source', 'links');
      expect(answer.body.id).to.match(/^[A-Z0-9]{17}$/);
      expect(answer.body.status).to.equal('PAYER_ACTION_REQUIRED');
      expect(answer.body.payment_source).to.deep.equal({ paypal: {} });
      expect(answer.body.links).to.deep.equal([
        { href: `${sim.baseUrl}/v2/checkout/orders/${answer.body.id}`, rel: 'self', method: 'GET' },
        { href: `${sim.baseUrl}/checkoutnow?token=${answer.body.id}`, rel: 'payer-action', method: 'GET' },
      ]);
    });

    it('answers the whole order with Prefer: return=representation', async () => {
      const request = orderRequest({ value: '25' });
      const answer = await sim.call('POST', '/v2/checkout/orders', { body: request, headers: { Prefer: 'return=representation' } });
      expect(answer.status).to.equal(201);
      expect(answer.body).to.include({ intent: 'CAPTURE', status: 'PAYER_ACTION_REQUIRED', create_time: '2026-03-01T09:00:00Z' });
      const unit = answer.body.purchase_units[0];
      expect(unit).to.deep.include({ reference_id: 'default', custom_id: '1234', invoice_id: request.purchase_units[0]?.invoice_id, amount: { currency_code: 'EUR', value: '25.00' } });
      expect(unit.payee.merchant_id).to.match(/^[2-9A-HJ-NP-Z]{13}$/);
      expect(sim.simulator.order(answer.body.id)).to.deep.equal(answer.body);
    });

    it('lists every invalid field in a 400 INVALID_REQUEST', async () => {
      const request = orderRequest() as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- breaking a valid body on purpose
      request.intent = 'AUTHORIZE';
      request.purchase_units[0].amount = { currency_code: 'euro', value: '10.5' };
      request.purchase_units[0].custom_id = 'x'.repeat(128);
      delete request.payment_source.paypal.experience_context.return_url;
      request.payment_source.paypal.experience_context.cancel_url = 'javascript:alert(1)';
      const answer = await sim.call('POST', '/v2/checkout/orders', { body: request });
      expect(answer.status).to.equal(400);
      expect(answer.body).to.include({ name: 'INVALID_REQUEST' });
      expect(answer.body.debug_id).to.be.a('string');
      const issues = answer.body.details.map((detail: { field: string; issue: string; location: string }) => [detail.field, detail.issue, detail.location]);
      expect(issues).to.deep.equal([
        ['/intent', 'INVALID_PARAMETER_VALUE', 'body'],
        ['/purchase_units/0/amount/currency_code', 'INVALID_PARAMETER_VALUE', 'body'],
        ['/purchase_units/0/amount/value', 'INVALID_PARAMETER_VALUE', 'body'],
        ['/purchase_units/0/custom_id', 'INVALID_STRING_LENGTH', 'body'],
        ['/payment_source/paypal/experience_context/return_url', 'MISSING_REQUIRED_PARAMETER', 'body'],
        ['/payment_source/paypal/experience_context/cancel_url', 'INVALID_PARAMETER_VALUE', 'body'],
      ]);
    });

    it('refuses a missing body part, two purchase units, malformed JSON and a zero amount', async () => {
      const missing = await sim.call('POST', '/v2/checkout/orders', { body: { intent: 'CAPTURE' } });
      expect(missing.status).to.equal(400);
      expect(missing.body.details.map((detail: { field: string }) => detail.field)).to.include('/purchase_units');
      const two = orderRequest();
      two.purchase_units.push({ ...two.purchase_units[0]!, invoice_id: 'another' });
      expect((await sim.call('POST', '/v2/checkout/orders', { body: two })).body.details[0].issue).to.equal('INVALID_ARRAY_MAX_ITEMS');
      const malformed = await sim.call('POST', '/v2/checkout/orders', { rawBody: '{"intent": "CAPTURE",' });
      expect(malformed.status).to.equal(400);
      expect(malformed.body.details[0].issue).to.equal('MALFORMED_REQUEST_JSON');
      const zero = await sim.call('POST', '/v2/checkout/orders', { body: orderRequest({ value: '0.00' }) });
      expect(zero.status).to.equal(422);
      expect(zero.body.details[0].issue).to.equal('CANNOT_BE_ZERO_OR_NEGATIVE');
    });

    it('refuses an invoice id already used with 422 DUPLICATE_INVOICE_ID', async () => {
      const request = orderRequest();
      expect((await sim.call('POST', '/v2/checkout/orders', { body: request })).status).to.equal(201);
      const again = await sim.call('POST', '/v2/checkout/orders', { body: request });
      expect(again.status).to.equal(422);
      expect(again.body).to.include({ name: 'UNPROCESSABLE_ENTITY' });
      expect(again.body.details[0].issue).to.equal('DUPLICATE_INVOICE_ID');
    });
  });

  describe('the order life cycle', () => {
    it('shows an unknown order as 404 RESOURCE_NOT_FOUND', async () => {
      const answer = await sim.call('GET', '/v2/checkout/orders/0000000000000000X');
      expect(answer.status).to.equal(404);
      expect(answer.body.name).to.equal('RESOURCE_NOT_FOUND');
      expect(answer.body.details[0].issue).to.equal('INVALID_RESOURCE_ID');
      expect(sim.simulator.order('0000000000000000X')).to.equal(undefined);
    });

    it('goes from the approval page to a completed capture', async () => {
      const orderId = await sim.createOrder({ value: '12.34' });
      const page = await fetch(`${sim.baseUrl}/checkoutnow?token=${orderId}`);
      expect(page.status).to.equal(200);
      const html = await page.text();
      expect(html).to.include('€12.34').and.include('action="/checkoutnow/approve"');

      const approval = await fetch(`${sim.baseUrl}/checkoutnow/approve`, { method: 'POST', body: new URLSearchParams({ token: orderId }), redirect: 'manual' });
      expect(approval.status).to.equal(303);
      const returnUrl = new URL(approval.headers.get('location') as string);
      expect(returnUrl.origin + returnUrl.pathname).to.equal('https://portal.example/topup/return');
      expect(returnUrl.searchParams.get('token')).to.equal(orderId);
      const payerId = returnUrl.searchParams.get('PayerID');
      expect(payerId).to.match(/^[2-9A-HJ-NP-Z]{13}$/);

      const approved = await sim.call('GET', `/v2/checkout/orders/${orderId}`);
      expect(approved.body.status).to.equal('APPROVED');
      expect(approved.body.payer).to.deep.include({ payer_id: payerId, email_address: 'buyer@example.com' });
      expect(approved.body.links.map((link: { rel: string }) => link.rel)).to.deep.equal(['self', 'capture']);

      const captured = await sim.call('POST', `/v2/checkout/orders/${orderId}/capture`, { headers: { Prefer: 'return=representation' }, body: {} });
      expect(captured.status).to.equal(201);
      expect(captured.body.status).to.equal('COMPLETED');
      const capture = captured.body.purchase_units[0].payments.captures[0];
      expect(capture).to.deep.include({
        status: 'COMPLETED',
        amount: { currency_code: 'EUR', value: '12.34' },
        final_capture: true,
        custom_id: '1234',
        seller_receivable_breakdown: {
          gross_amount: { currency_code: 'EUR', value: '12.34' },
          paypal_fee: { currency_code: 'EUR', value: '0.71' },
          net_amount: { currency_code: 'EUR', value: '11.63' },
        },
      });
      expect(capture.links.map((link: { rel: string }) => link.rel)).to.deep.equal(['self', 'refund', 'up']);

      const shown = await sim.call('GET', `/v2/checkout/orders/${orderId}`);
      expect(shown.body.purchase_units[0].payments.captures).to.deep.equal([capture]);
      const direct = await sim.call('GET', `/v2/payments/captures/${capture.id}`);
      expect(direct.status).to.equal(200);
      expect(direct.body).to.deep.include({ id: capture.id, status: 'COMPLETED', supplementary_data: { related_ids: { order_id: orderId } } });
    });

    it('answers a capture minimally by default', async () => {
      const orderId = await sim.approvedOrder();
      const captured = await sim.call('POST', `/v2/checkout/orders/${orderId}/capture`);
      expect(captured.status).to.equal(201);
      expect(captured.body).to.have.all.keys('id', 'status', 'payment_source', 'purchase_units', 'payer', 'links');
      expect(captured.body.purchase_units[0].payments.captures[0].status).to.equal('COMPLETED');
    });

    it('refuses to capture an order not approved, or already captured', async () => {
      const orderId = await sim.createOrder();
      const early = await sim.call('POST', `/v2/checkout/orders/${orderId}/capture`);
      expect(early.status).to.equal(422);
      expect(early.body.details[0].issue).to.equal('ORDER_NOT_APPROVED');
      sim.simulator.approve(orderId);
      expect((await sim.call('POST', `/v2/checkout/orders/${orderId}/capture`)).status).to.equal(201);
      const twice = await sim.call('POST', `/v2/checkout/orders/${orderId}/capture`);
      expect(twice.status).to.equal(422);
      expect(twice.body.details[0].issue).to.equal('ORDER_ALREADY_CAPTURED');
      const unknown = await sim.call('POST', '/v2/checkout/orders/NOSUCHORDER000000/capture');
      expect(unknown.status).to.equal(404);
    });

    it('voids an order not approved within 3 hours, or not captured within 3 hours of approval', async () => {
      const waiting = await sim.createOrder();
      const approved = await sim.approvedOrder();
      now += 3 * 3600_000;
      try {
        expect((await sim.call('GET', `/v2/checkout/orders/${waiting}`)).body.status).to.equal('VOIDED');
        expect((await sim.call('GET', `/v2/checkout/orders/${approved}`)).body.status).to.equal('VOIDED');
        const capture = await sim.call('POST', `/v2/checkout/orders/${approved}/capture`);
        expect(capture.status).to.equal(422);
        expect(() => sim.simulator.approve(waiting)).to.throw(/can no longer be approved/);
      } finally {
        now -= 3 * 3600_000;
      }
    });
  });

  describe('PayPal-Request-Id', () => {
    it('replays a create and a capture with the first answer, acting once (200, as the spec says for a repeat)', async () => {
      const request = orderRequest();
      const headers = { 'PayPal-Request-Id': `create-${request.purchase_units[0]?.invoice_id}` };
      const first = await sim.call('POST', '/v2/checkout/orders', { body: request, headers });
      const again = await sim.call('POST', '/v2/checkout/orders', { body: request, headers });
      expect(first.status).to.equal(201);
      expect(again.status).to.equal(200);
      expect(again.body).to.deep.equal(first.body);

      const orderId = first.body.id as string;
      sim.simulator.approve(orderId);
      const captureHeaders = { 'PayPal-Request-Id': `capture-${orderId}`, Prefer: 'return=representation' };
      const captured = await sim.call('POST', `/v2/checkout/orders/${orderId}/capture`, { headers: captureHeaders });
      const replayed = await sim.call('POST', `/v2/checkout/orders/${orderId}/capture`, { headers: captureHeaders });
      expect(captured.status).to.equal(201);
      expect(replayed.status).to.equal(200);
      expect(replayed.body).to.deep.equal(captured.body);
      expect((await sim.call('GET', `/v2/checkout/orders/${orderId}`)).body.purchase_units[0].payments.captures).to.have.length(1);
      const capturesRecorded = sim.simulator.requests.filter((entry) => entry.path === `/v2/checkout/orders/${orderId}/capture`);
      expect(capturesRecorded.map((entry) => [entry.status, entry.requestId])).to.deep.equal([
        [201, `capture-${orderId}`],
        [200, `capture-${orderId}`],
      ]);
    });

    it('does not keep refusals, so a retry with the same id can succeed', async () => {
      const orderId = await sim.createOrder();
      const headers = { 'PayPal-Request-Id': `capture-${orderId}` };
      expect((await sim.call('POST', `/v2/checkout/orders/${orderId}/capture`, { headers })).status).to.equal(422);
      sim.simulator.approve(orderId);
      expect((await sim.call('POST', `/v2/checkout/orders/${orderId}/capture`, { headers })).status).to.equal(201);
    });

    it('answers 409 PREVIOUS_REQUEST_IN_PROGRESS to a second call while the first is still answering', async () => {
      const orderId = await sim.approvedOrder();
      sim.simulator.setFault({ type: 'delay', ms: 500, operation: 'capture' }, { orderId });
      try {
        const headers = { 'PayPal-Request-Id': `capture-${orderId}` };
        const slow = sim.call('POST', `/v2/checkout/orders/${orderId}/capture`, { headers });
        // The capture is made at once; only its answer waits.
        await until(async () => (await sim.call('GET', `/v2/checkout/orders/${orderId}`)).body.status === 'COMPLETED');
        const second = await sim.call('POST', `/v2/checkout/orders/${orderId}/capture`, { headers });
        expect(second.status).to.equal(409);
        expect(second.body.name).to.equal('RESOURCE_CONFLICT');
        expect(second.body.details[0].issue).to.equal('PREVIOUS_REQUEST_IN_PROGRESS');
        expect((await slow).status).to.equal(201);
        expect((await sim.call('POST', `/v2/checkout/orders/${orderId}/capture`, { headers })).status).to.equal(200);
      } finally {
        sim.simulator.clearFaults();
      }
    });
  });

  it('records every API call with its request id, status and body', async () => {
    const request = orderRequest();
    await sim.call('POST', '/v2/checkout/orders', { body: request, headers: { 'PayPal-Request-Id': 'recorded-1' } });
    const entry = sim.simulator.requests.find((candidate) => candidate.requestId === 'recorded-1');
    expect(entry).to.deep.equal({ method: 'POST', path: '/v2/checkout/orders', requestId: 'recorded-1', status: 201, body: request });
  });

  it('throws when asked for its base URL before it started', () => {
    expect(() => createPayPalSimulator().baseUrl).to.throw(/not started/);
  });
});
