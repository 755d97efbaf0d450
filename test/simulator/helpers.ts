import { randomUUID, verify, X509Certificate } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { webhookSignedMessage } from '../../src/payments/paypal/webhook-signature.js';
import { createPayPalSimulator, type PayPalSimulator, type SimulatorOptions } from '../../src/payments/paypal/simulator/index.js';

export interface ApiAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed JSON body; undefined when the body is not JSON. */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read PayPal's JSON freely
}

export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Sent as is (for malformed JSON). */
  rawBody?: string;
  /** Without the bearer token. */
  anonymous?: boolean;
}

export interface TestSimulator {
  simulator: PayPalSimulator;
  baseUrl: string;
  token: string;
  call(method: 'GET' | 'POST' | 'DELETE', path: string, options?: CallOptions): Promise<ApiAnswer>;
  /** Creates an order from orderRequest(overrides) and returns its id. */
  createOrder(overrides?: OrderOverrides): Promise<string>;
  /** Creates an order and approves it as the buyer. */
  approvedOrder(overrides?: OrderOverrides): Promise<string>;
  /** Creates, approves and captures an order; returns the order and capture ids. */
  capturedOrder(overrides?: OrderOverrides): Promise<{ orderId: string; captureId: string }>;
}

export interface OrderOverrides {
  value?: string;
  currency?: string;
  locale?: string;
  customId?: string;
}

/** A valid create-order body, as the portal sends it, with a fresh invoice id. */
export function orderRequest(overrides: OrderOverrides = {}) {
  return {
    intent: 'CAPTURE',
    purchase_units: [
      {
        reference_id: 'default',
        custom_id: overrides.customId ?? '1234',
        invoice_id: `R-${randomUUID()}`,
        description: 'Recharge: 100 units',
        amount: { currency_code: overrides.currency ?? 'EUR', value: overrides.value ?? '10.00' },
      },
    ],
    payment_source: {
      paypal: {
        experience_context: {
          return_url: 'https://portal.example/topup/return',
          cancel_url: 'https://portal.example/topup/cancel',
          brand_name: 'Recharge',
          locale: overrides.locale ?? 'en-GB',
          user_action: 'PAY_NOW',
          shipping_preference: 'NO_SHIPPING',
        },
      },
    },
  };
}

export async function startTestSimulator(options: SimulatorOptions = {}): Promise<TestSimulator> {
  const simulator = createPayPalSimulator(options);
  const baseUrl = await simulator.start();
  const { clientId, clientSecret } = simulator.credentials;
  const tokenAnswer = await fetch(`${baseUrl}/v1/oauth2/token`, {
    method: 'POST',
    headers: { Authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  const token = ((await tokenAnswer.json()) as { access_token: string }).access_token;

  const call: TestSimulator['call'] = async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...(options.anonymous ? {} : { Authorization: `Bearer ${token}` }), ...options.headers };
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['Content-Type'] ??= 'application/json';
    const response = await fetch(`${baseUrl}${path}`, { method, headers, body, redirect: 'manual' });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, text, body: parsed };
  };

  const createOrder = async (overrides?: OrderOverrides) => {
    const created = await call('POST', '/v2/checkout/orders', { body: orderRequest(overrides) });
    if (created.status !== 201) throw new Error(`create answered ${created.status}: ${created.text}`);
    return created.body.id as string;
  };
  const approvedOrder = async (overrides?: OrderOverrides) => {
    const orderId = await createOrder(overrides);
    simulator.approve(orderId);
    return orderId;
  };
  const capturedOrder = async (overrides?: OrderOverrides) => {
    const orderId = await approvedOrder(overrides);
    const captured = await call('POST', `/v2/checkout/orders/${orderId}/capture`, { headers: { Prefer: 'return=representation' } });
    if (captured.status !== 201) throw new Error(`capture answered ${captured.status}: ${captured.text}`);
    return { orderId, captureId: captured.body.purchase_units[0].payments.captures[0].id as string };
  };

  return { simulator, baseUrl, token, call, createOrder, approvedOrder, capturedOrder };
}

/** Polls until `done` holds: for waiting on the simulator's state, never on the clock. */
export async function until(done: () => Promise<boolean>): Promise<void> {
  while (!(await done())) await new Promise((resolve) => setTimeout(resolve, 10));
}

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  close(): Promise<void>;
}

/** A tiny webhook listener; `statusFor` picks each answer's status (the n-th delivery is 1). */
export async function startReceiver(statusFor: (delivery: number) => number = () => 200): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.statusCode = statusFor(received.length);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/paypal`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Verifies a delivery the way the portal does offline: the certificate from PAYPAL-CERT-URL, the signed string, RSA-SHA256. */
export async function signatureIsValid(webhook: ReceivedWebhook, webhookId: string): Promise<boolean> {
  const header = (name: string) => String(webhook.headers[name]);
  const pem = await (await fetch(header('paypal-cert-url'))).text();
  const message = webhookSignedMessage(header('paypal-transmission-id'), header('paypal-transmission-time'), webhookId, Buffer.from(webhook.body));
  return verify('sha256', Buffer.from(message), new X509Certificate(pem).publicKey, Buffer.from(header('paypal-transmission-sig'), 'base64'));
}
