import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { expect } from 'chai';
import { projectRoot } from '../../src/config.js';
import { orderRequest, startReceiver, startTestSimulator, until, type TestSimulator, type WebhookReceiver } from './helpers.js';

const SPEC_DIRECTORY = path.resolve(projectRoot, '..', 'shared', 'reference', 'paypal-openapi');
const SPECS = { orders: 'checkout_orders_v2.json', payments: 'payments_payment_v2.json', webhooks: 'notifications_webhooks_v1.json' } as const;
/** The spec's own pattern for webhook ids (`^[a-zA-Z0-9]+$`), which the default SIM-WEBHOOK-ID does not match. */
const WEBHOOK_ID = '1JE4291016473214C';
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** The JSON schema of one answer of one operation, by JSON pointer into the spec. */
const answerSchema = (spec: keyof typeof SPECS, route: string, method: string, status: number) =>
  `${spec}#/paths/${route.replaceAll('~', '~0').replaceAll('/', '~1')}/${method}/responses/${status}/content/application~1json/schema`;

describe('PayPal simulator: conformance to PayPal’s OpenAPI specs', () => {
  let ajv: Ajv;
  let sim: TestSimulator | undefined;
  let receiver: WebhookReceiver | undefined;
  const validators = new Map<string, ValidateFunction>();

  before(async function () {
    if (!existsSync(SPEC_DIRECTORY)) {
      console.log(`      (PayPal's OpenAPI specs are not at ${SPEC_DIRECTORY}: conformance is not checked)`);
      this.skip();
    }
    ajv = new Ajv({ strict: false, unicodeRegExp: false, allErrors: true });
    for (const [name, file] of Object.entries(SPECS)) {
      const spec = JSON.parse(readFileSync(path.join(SPEC_DIRECTORY, file), 'utf8')) as unknown;
      registerFormats(ajv, spec);
      ajv.addSchema(spec as object, name);
    }
    receiver = await startReceiver();
    sim = await startTestSimulator({ webhookId: WEBHOOK_ID, webhookUrl: receiver.url });
  });
  afterEach(() => sim?.simulator.clearFaults());
  after(async () => {
    await sim?.simulator.stop();
    await receiver?.close();
  });

  /** Asserts that `data` is valid against the schema at `ref`, naming every violation. */
  function expectConforms(ref: string, data: unknown, what: string): void {
    let validate = validators.get(ref);
    if (!validate) {
      validate = ajv.compile({ $ref: ref });
      validators.set(ref, validate);
    }
    const valid = validate(data);
    expect(valid, `${what} against ${ref}: ${ajv.errorsText(validate.errors, { separator: '\n' })}`).to.equal(true);
  }
  const ORDER = 'orders#/components/schemas/order';
  const CAPTURE = 'payments#/components/schemas/capture-2';
  const REFUND = 'payments#/components/schemas/refund';

  it('takes a create request that is a valid order_request, and answers with valid orders at every step', async () => {
    const simulator = sim as TestSimulator;
    const request = orderRequest();
    expectConforms('orders#/components/schemas/order_request', request, 'the create request the tests send');
    const minimal = await simulator.call('POST', '/v2/checkout/orders', { body: request });
    expectConforms(ORDER, minimal.body, 'minimal create answer');
    const full = await simulator.call('POST', '/v2/checkout/orders', { body: orderRequest(), headers: { Prefer: 'return=representation' } });
    expectConforms(ORDER, full.body, 'full create answer');

    const orderId = minimal.body.id as string;
    expectConforms(ORDER, (await simulator.call('GET', `/v2/checkout/orders/${orderId}`)).body, 'order awaiting the buyer');
    simulator.simulator.approve(orderId);
    expectConforms(ORDER, (await simulator.call('GET', `/v2/checkout/orders/${orderId}`)).body, 'approved order');
    const captured = await simulator.call('POST', `/v2/checkout/orders/${orderId}/capture`);
    expectConforms(ORDER, captured.body, 'minimal capture answer');
    const captureId = captured.body.purchase_units[0].payments.captures[0].id as string;
    expectConforms(CAPTURE, (await simulator.call('GET', `/v2/payments/captures/${captureId}`)).body, 'completed capture');

    const refund = await simulator.call('POST', `/v2/payments/captures/${captureId}/refund`, { body: { amount: { value: '2.50', currency_code: 'EUR' } } });
    expectConforms('payments#/components/schemas/refund_request', { amount: { value: '2.50', currency_code: 'EUR' } }, 'the refund request');
    expectConforms(REFUND, refund.body, 'refund answer');
    expectConforms(REFUND, (await simulator.call('GET', `/v2/payments/refunds/${refund.body.id}`)).body, 'refund shown');
    expectConforms(CAPTURE, (await simulator.call('GET', `/v2/payments/captures/${captureId}`)).body, 'partially refunded capture');
    await simulator.call('POST', `/v2/payments/captures/${captureId}/refund`);
    expectConforms(CAPTURE, (await simulator.call('GET', `/v2/payments/captures/${captureId}`)).body, 'refunded capture');
    expectConforms(ORDER, (await simulator.call('GET', `/v2/checkout/orders/${orderId}`)).body, 'order with captures and refunds');
  });

  it('answers a full capture, a pending and a denied one with valid resources', async () => {
    const simulator = sim as TestSimulator;
    const orderId = await simulator.approvedOrder();
    simulator.simulator.setFault({ type: 'pending' }, { orderId });
    const captured = await simulator.call('POST', `/v2/checkout/orders/${orderId}/capture`, { headers: { Prefer: 'return=representation' } });
    expectConforms(ORDER, captured.body, 'full capture answer, pending');
    const captureId = captured.body.purchase_units[0].payments.captures[0].id as string;
    expectConforms(CAPTURE, (await simulator.call('GET', `/v2/payments/captures/${captureId}`)).body, 'pending capture');
    simulator.simulator.denyPendingCapture(orderId);
    expectConforms(CAPTURE, (await simulator.call('GET', `/v2/payments/captures/${captureId}`)).body, 'denied capture');
  });

  it('sends webhook events that are valid events carrying valid resources', async () => {
    const simulator = sim as TestSimulator;
    const client = receiver as WebhookReceiver;
    const { orderId } = await simulator.capturedOrder({ value: '30.00' });
    simulator.simulator.refundCapture(orderId, '10.00');
    simulator.simulator.reverseCapture(orderId);
    const pendingOrder = await simulator.approvedOrder();
    simulator.simulator.setFault({ type: 'pending' }, { orderId: pendingOrder });
    await simulator.call('POST', `/v2/checkout/orders/${pendingOrder}/capture`);
    simulator.simulator.denyPendingCapture(pendingOrder);
    await simulator.simulator.flushWebhooks();

    const events = client.received.map((webhook) => JSON.parse(webhook.body));
    const resourceSchema: Record<string, string> = { 'checkout-order': ORDER, capture: CAPTURE, refund: REFUND };
    const types = new Set<string>();
    for (const event of events) {
      types.add(event.event_type);
      expectConforms('webhooks#/components/schemas/event', event, event.event_type);
      expect(event.create_time, 'event create_time').to.match(DATE_TIME);
      expectConforms(resourceSchema[event.resource_type] as string, event.resource, `${event.event_type} resource`);
    }
    expect([...types]).to.include.members(['CHECKOUT.ORDER.APPROVED', 'PAYMENT.CAPTURE.COMPLETED', 'PAYMENT.CAPTURE.REFUNDED', 'PAYMENT.CAPTURE.REVERSED', 'PAYMENT.CAPTURE.PENDING', 'PAYMENT.CAPTURE.DENIED']);

    const webhook = client.received[0];
    const verifyRequest = {
      auth_algo: webhook?.headers['paypal-auth-algo'],
      cert_url: webhook?.headers['paypal-cert-url'],
      transmission_id: webhook?.headers['paypal-transmission-id'],
      transmission_sig: webhook?.headers['paypal-transmission-sig'],
      transmission_time: webhook?.headers['paypal-transmission-time'],
      webhook_id: WEBHOOK_ID,
      webhook_event: events[0],
    };
    expectConforms('webhooks#/components/schemas/verify_webhook_signature', verifyRequest, 'the verification request built from a delivery');
    const verified = await simulator.call('POST', '/v1/notifications/verify-webhook-signature', { body: verifyRequest });
    expectConforms(answerSchema('webhooks', '/v1/notifications/verify-webhook-signature', 'post', 200), verified.body, 'verification answer');
    expect(verified.body.verification_status).to.equal('SUCCESS');
  });

  it('refuses with valid error envelopes', async () => {
    const simulator = sim as TestSimulator;
    const invalid = await simulator.call('POST', '/v2/checkout/orders', { body: { intent: 'CAPTURE', purchase_units: [{ amount: { currency_code: 'EUR', value: 'x' } }] } });
    expectConforms(answerSchema('orders', '/v2/checkout/orders', 'post', 400), invalid.body, 'create 400');
    const malformed = await simulator.call('POST', '/v2/checkout/orders', { rawBody: '{' });
    expectConforms(answerSchema('orders', '/v2/checkout/orders', 'post', 400), malformed.body, 'create malformed JSON');
    const request = orderRequest();
    await simulator.call('POST', '/v2/checkout/orders', { body: request });
    const duplicate = await simulator.call('POST', '/v2/checkout/orders', { body: request });
    expectConforms(answerSchema('orders', '/v2/checkout/orders', 'post', 422), duplicate.body, 'create 422');
    const unauthenticated = await simulator.call('GET', '/v2/checkout/orders/X', { anonymous: true });
    expectConforms(answerSchema('orders', '/v2/checkout/orders/{id}', 'get', 401), unauthenticated.body, '401');
    const unknown = await simulator.call('GET', '/v2/checkout/orders/NOSUCHORDER000000');
    expectConforms(answerSchema('orders', '/v2/checkout/orders/{id}', 'get', 404), unknown.body, 'get 404');

    const orderId = await simulator.createOrder();
    const notApproved = await simulator.call('POST', `/v2/checkout/orders/${orderId}/capture`);
    expectConforms(answerSchema('orders', '/v2/checkout/orders/{id}/capture', 'post', 422), notApproved.body, 'ORDER_NOT_APPROVED');
    simulator.simulator.approve(orderId);
    simulator.simulator.setFault({ type: 'decline' }, { orderId });
    const declined = await simulator.call('POST', `/v2/checkout/orders/${orderId}/capture`);
    expectConforms(answerSchema('orders', '/v2/checkout/orders/{id}/capture', 'post', 422), declined.body, 'INSTRUMENT_DECLINED');
    simulator.simulator.clearFaults();
    simulator.simulator.approve(orderId);
    await simulator.call('POST', `/v2/checkout/orders/${orderId}/capture`);
    const twice = await simulator.call('POST', `/v2/checkout/orders/${orderId}/capture`);
    expectConforms(answerSchema('orders', '/v2/checkout/orders/{id}/capture', 'post', 422), twice.body, 'ORDER_ALREADY_CAPTURED');
    simulator.simulator.setFault({ type: 'http500', times: 1 });
    const failed = await simulator.call('GET', `/v2/checkout/orders/${orderId}`);
    expectConforms(answerSchema('orders', '/v2/checkout/orders/{id}/capture', 'post', 500), failed.body, '500');

    const captureId = (await simulator.call('GET', `/v2/checkout/orders/${orderId}`)).body.purchase_units[0].payments.captures[0].id as string;
    const refundRoute = '/v2/payments/captures/{capture_id}/refund';
    const syntax = await simulator.call('POST', `/v2/payments/captures/${captureId}/refund`, { body: { amount: { value: '1,00', currency_code: 'EUR' } } });
    expectConforms(answerSchema('payments', refundRoute, 'post', 400), syntax.body, 'refund 400');
    for (const amount of [{ value: '99.00', currency_code: 'EUR' }, { value: '1.00', currency_code: 'USD' }]) {
      const refused = await simulator.call('POST', `/v2/payments/captures/${captureId}/refund`, { body: { amount } });
      expectConforms(answerSchema('payments', refundRoute, 'post', 422), refused.body, `refund 422 ${refused.body.details?.[0]?.issue}`);
    }
    simulator.simulator.setFault({ type: 'delay', ms: 500, operation: 'refund' }, { orderId });
    const headers = { 'PayPal-Request-Id': `refund-${captureId}` };
    const slow = simulator.call('POST', `/v2/payments/captures/${captureId}/refund`, { headers });
    await until(async () => (await simulator.call('GET', `/v2/payments/captures/${captureId}`)).body.status === 'REFUNDED');
    const inProgress = await simulator.call('POST', `/v2/payments/captures/${captureId}/refund`, { headers });
    expectConforms(answerSchema('payments', refundRoute, 'post', 409), inProgress.body, 'refund 409');
    expect((await slow).status).to.equal(201);
    const fullyRefunded = await simulator.call('POST', `/v2/payments/captures/${captureId}/refund`);
    expectConforms(answerSchema('payments', refundRoute, 'post', 422), fullyRefunded.body, 'CAPTURE_FULLY_REFUNDED');
  });
});

/**
 * PayPal's specs name private formats (ppaas_date_time_v3, …) that ajv does not know: date-time and
 * uri are checked, the private ones are accepted (their `pattern` still applies).
 */
function registerFormats(ajv: Ajv, spec: unknown): void {
  const names = new Set<string>();
  const collect = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(collect);
    else if (typeof node === 'object' && node !== null) {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'format' && typeof value === 'string') names.add(value);
        else collect(value);
      }
    }
  };
  collect(spec);
  for (const name of names) {
    if (ajv.formats[name]) continue;
    if (name === 'date-time') ajv.addFormat(name, DATE_TIME);
    else if (name === 'uri') ajv.addFormat(name, (value: string) => URL.canParse(value));
    else ajv.addFormat(name, true);
  }
}
