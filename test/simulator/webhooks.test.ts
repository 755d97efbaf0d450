import { verify, X509Certificate } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { expect } from 'chai';
import { signatureIsValid, startReceiver, startTestSimulator, type ReceivedWebhook, type TestSimulator, type WebhookReceiver } from './helpers.js';

const WEBHOOK_ID = 'WH-LISTENER-1';

describe('PayPal simulator: webhooks', () => {
  let sim: TestSimulator;
  let receiver: WebhookReceiver;
  let answers: number[];
  before(async () => {
    receiver = await startReceiver((delivery) => answers[delivery - 1] ?? 200);
    sim = await startTestSimulator({ webhookId: WEBHOOK_ID, webhookUrl: receiver.url, webhookRetry: { attempts: 3, delayMs: 10 } });
  });
  beforeEach(() => {
    answers = [];
    receiver.received.length = 0;
  });
  afterEach(async () => {
    sim.simulator.clearFaults();
    sim.simulator.setWebhookUrl(receiver.url);
    await sim.simulator.flushWebhooks();
  });
  after(async () => {
    await sim.simulator.stop();
    await receiver.close();
  });

  const eventsOf = (orderId: string, webhooks: readonly ReceivedWebhook[] = receiver.received) =>
    webhooks.map((webhook) => JSON.parse(webhook.body)).filter((event) => JSON.stringify(event.resource).includes(orderId));

  it('signs every delivery with the certificate at PAYPAL-CERT-URL, over the shared signed string', async () => {
    const { orderId } = await sim.capturedOrder();
    await sim.simulator.flushWebhooks();
    expect(receiver.received).to.have.length(2);
    for (const webhook of receiver.received) {
      expect(webhook.headers['content-type']).to.equal('application/json');
      expect(webhook.headers['paypal-auth-algo']).to.equal('SHA256withRSA');
      expect(webhook.headers['paypal-transmission-id']).to.match(/^[0-9a-f-]{36}$/);
      expect(new Date(String(webhook.headers['paypal-transmission-time'])).getTime()).not.to.be.NaN;
      expect(String(webhook.headers['paypal-cert-url'])).to.match(new RegExp(`^${sim.baseUrl}/certs/CERT-[\\w-]+\\.pem$`));
      expect(await signatureIsValid(webhook, WEBHOOK_ID)).to.equal(true);
      expect(await signatureIsValid(webhook, 'ANOTHER-LISTENER')).to.equal(false);
      expect(await signatureIsValid({ ...webhook, body: webhook.body.replace('"1234"', '"9999"') }, WEBHOOK_ID)).to.equal(false);
    }
    const [approved, completed] = eventsOf(orderId);
    expect(approved).to.include({ event_type: 'CHECKOUT.ORDER.APPROVED', resource_type: 'checkout-order', event_version: '1.0', resource_version: '2.0' });
    expect(approved.id).to.match(/^WH-/);
    expect(approved.resource).to.include({ id: orderId, status: 'APPROVED' });
    expect(completed).to.include({ event_type: 'PAYMENT.CAPTURE.COMPLETED', resource_type: 'capture' });
    expect(completed.resource).to.deep.include({ status: 'COMPLETED', custom_id: '1234', supplementary_data: { related_ids: { order_id: orderId } } });
    expect(completed.summary).to.equal('Payment completed for 10.00 EUR');
  });

  it('signs `transmission id|time|webhook id|CRC32 of the body`', async () => {
    await sim.approvedOrder();
    await sim.simulator.flushWebhooks();
    const delivery = sim.simulator.deliveries.at(-1);
    const webhook = receiver.received[0] as ReceivedWebhook;
    const pem = await (await fetch(String(webhook.headers['paypal-cert-url']))).text();
    const message = `${webhook.headers['paypal-transmission-id']}|${webhook.headers['paypal-transmission-time']}|${WEBHOOK_ID}|${crc32(Buffer.from(webhook.body)) >>> 0}`;
    expect(verify('sha256', Buffer.from(message), new X509Certificate(pem).publicKey, Buffer.from(String(webhook.headers['paypal-transmission-sig']), 'base64'))).to.equal(true);
    expect(delivery).to.deep.include({ status: 200, attempt: 1, body: webhook.body });
  });

  it('serves its certificate as application/x-pem-file, and nothing else under /certs', async () => {
    await sim.approvedOrder();
    await sim.simulator.flushWebhooks();
    const certificate = await fetch(String(receiver.received[0]?.headers['paypal-cert-url']));
    expect(certificate.headers.get('content-type')).to.match(/^application\/x-pem-file/);
    const parsed = new X509Certificate(await certificate.text());
    expect(parsed.publicKey.asymmetricKeyType).to.equal('rsa');
    expect(parsed.publicKey.asymmetricKeyDetails?.modulusLength).to.equal(2048);
    expect((await fetch(`${sim.baseUrl}/certs/CERT-other.pem`)).status).to.equal(404);
  });

  it('redelivers after a non-2xx answer, recording every attempt', async () => {
    answers = [500, 503];
    await sim.approvedOrder();
    await sim.simulator.flushWebhooks();
    expect(receiver.received).to.have.length(3);
    const attempts = sim.simulator.deliveries.slice(-3).map((delivery) => [delivery.attempt, delivery.status]);
    expect(attempts).to.deep.equal([
      [1, 500],
      [2, 503],
      [3, 200],
    ]);
    const ids = receiver.received.map((webhook) => JSON.parse(webhook.body).id);
    expect(new Set(ids).size, 'one event, three transmissions').to.equal(1);
    expect(new Set(receiver.received.map((webhook) => webhook.headers['paypal-transmission-id'])).size).to.equal(3);
  });

  it('gives up after the configured attempts, and counts a network error as a failure', async () => {
    sim.simulator.setWebhookUrl('http://127.0.0.1:9/unreachable');
    await sim.approvedOrder();
    await sim.simulator.flushWebhooks();
    const failed = sim.simulator.deliveries.slice(-3);
    expect(failed.map((delivery) => [delivery.attempt, delivery.status])).to.deep.equal([
      [1, null],
      [2, null],
      [3, null],
    ]);
  });

  it('keeps events undelivered, but listed, without a webhook URL', async () => {
    sim.simulator.setWebhookUrl(null);
    const orderId = await sim.approvedOrder();
    await sim.simulator.flushWebhooks();
    expect(receiver.received).to.have.length(0);
    const kept = sim.simulator.deliveries.at(-1);
    expect(kept).to.deep.include({ eventType: 'CHECKOUT.ORDER.APPROVED', status: null, attempt: 0 });
    expect(kept?.body).to.include(orderId);
  });

  it('delivers each event 1 + duplicates times, each a signed transmission of the same event', async () => {
    sim.simulator.setFault({ type: 'webhooks', duplicates: 2 });
    await sim.approvedOrder();
    await sim.simulator.flushWebhooks();
    expect(receiver.received).to.have.length(3);
    expect(new Set(receiver.received.map((webhook) => JSON.parse(webhook.body).id)).size).to.equal(1);
    for (const webhook of receiver.received) expect(await signatureIsValid(webhook, WEBHOOK_ID)).to.equal(true);
  });

  it('holds an order’s events and delivers them newest first at flush', async () => {
    const orderId = await sim.createOrder();
    sim.simulator.setFault({ type: 'webhooks', reverseOrder: true }, { orderId });
    sim.simulator.approve(orderId);
    expect((await sim.call('POST', `/v2/checkout/orders/${orderId}/capture`)).status).to.equal(201);
    sim.simulator.refundCapture(orderId);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(receiver.received, 'held until flushed').to.have.length(0);
    await sim.simulator.flushWebhooks();
    expect(eventsOf(orderId).map((event) => event.event_type)).to.deep.equal(['PAYMENT.CAPTURE.REFUNDED', 'PAYMENT.CAPTURE.COMPLETED', 'CHECKOUT.ORDER.APPROVED']);
  });

  it('sends refunds, reversals, pending and denied captures with the order id and custom_id', async () => {
    const { orderId, captureId } = await sim.capturedOrder({ value: '20.00' });
    sim.simulator.refundCapture(orderId, '5.00');
    sim.simulator.reverseCapture(orderId);
    const pendingOrder = await sim.approvedOrder();
    sim.simulator.setFault({ type: 'pending' }, { orderId: pendingOrder });
    await sim.call('POST', `/v2/checkout/orders/${pendingOrder}/capture`);
    sim.simulator.denyPendingCapture(pendingOrder);
    await sim.simulator.flushWebhooks();

    const [, , refunded, reversed] = eventsOf(orderId);
    expect(refunded).to.include({ event_type: 'PAYMENT.CAPTURE.REFUNDED', resource_type: 'refund', summary: 'A 5.00 EUR capture payment was refunded' });
    expect(refunded.resource).to.deep.include({ custom_id: '1234', amount: { currency_code: 'EUR', value: '5.00' }, supplementary_data: { related_ids: { order_id: orderId, capture_id: captureId } } });
    expect(refunded.resource.links).to.deep.include({ href: `${sim.baseUrl}/v2/payments/captures/${captureId}`, rel: 'up', method: 'GET' });
    expect(reversed).to.include({ event_type: 'PAYMENT.CAPTURE.REVERSED', resource_type: 'refund' });
    expect(reversed.resource).to.deep.include({ amount: { currency_code: 'EUR', value: '15.00' }, custom_id: '1234', supplementary_data: { related_ids: { order_id: orderId, capture_id: captureId } } });
    expect(eventsOf(pendingOrder).map((event) => [event.event_type, event.resource.status])).to.deep.equal([
      ['CHECKOUT.ORDER.APPROVED', 'APPROVED'],
      ['PAYMENT.CAPTURE.PENDING', 'PENDING'],
      ['PAYMENT.CAPTURE.DENIED', 'DECLINED'],
    ]);
  });

  it('verifies a delivery online, and shows the event by id', async () => {
    await sim.approvedOrder();
    await sim.simulator.flushWebhooks();
    const webhook = receiver.received[0] as ReceivedWebhook;
    const event = JSON.parse(webhook.body);
    const verification = (changes: Record<string, unknown> = {}) =>
      sim.call('POST', '/v1/notifications/verify-webhook-signature', {
        body: {
          auth_algo: webhook.headers['paypal-auth-algo'],
          cert_url: webhook.headers['paypal-cert-url'],
          transmission_id: webhook.headers['paypal-transmission-id'],
          transmission_sig: webhook.headers['paypal-transmission-sig'],
          transmission_time: webhook.headers['paypal-transmission-time'],
          webhook_id: WEBHOOK_ID,
          webhook_event: event,
          ...changes,
        },
      });
    const verified = await verification();
    expect(verified.status).to.equal(200);
    expect(verified.body).to.deep.equal({ verification_status: 'SUCCESS' });
    for (const changes of [{ webhook_id: 'OTHER' }, { webhook_event: { ...event, summary: 'tampered' } }, { transmission_time: '2020-01-01T00:00:00Z' }, { cert_url: 'https://elsewhere.example/cert.pem' }]) {
      expect((await verification(changes)).body, JSON.stringify(Object.keys(changes))).to.deep.equal({ verification_status: 'FAILURE' });
    }
    const incomplete = await sim.call('POST', '/v1/notifications/verify-webhook-signature', { body: { webhook_id: WEBHOOK_ID } });
    expect(incomplete.status).to.equal(400);
    const anonymous = await sim.call('POST', '/v1/notifications/verify-webhook-signature', { body: {}, anonymous: true });
    expect(anonymous.status).to.equal(401);

    const shown = await sim.call('GET', `/v1/notifications/webhooks-events/${event.id}`);
    expect(shown.body).to.deep.equal(event);
    expect(event.links[0]).to.deep.equal({ href: `${sim.baseUrl}/v1/notifications/webhooks-events/${event.id}`, rel: 'self', method: 'GET' });
  });

  it('never lets a failing receiver slow down or fail an API answer', async () => {
    sim.simulator.setWebhookUrl('http://127.0.0.1:9/unreachable');
    const { orderId } = await sim.capturedOrder();
    expect((await sim.call('GET', `/v2/checkout/orders/${orderId}`)).body.status).to.equal('COMPLETED');
  });
});
