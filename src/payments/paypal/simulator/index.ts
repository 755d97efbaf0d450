import { setMaxListeners } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler } from 'express';
import { apiRouter } from './api-routes.js';
import { approvalPageRouter, approvedReturnUrl, cancelledReturnUrl } from './approval-page.js';
import { controlRouter } from './control-routes.js';
import { webhookEventOf } from './events.js';
import { FaultBook } from './faults.js';
import { RequestIdMemory } from './idempotency.js';
import { newAccountId } from './ids.js';
import { isAmountValue } from './money.js';
import { OAuthTokens } from './oauth.js';
import { payerActionUrl, Representations } from './resources.js';
import { createWebhookSigner, keptWebhookSigner, type WebhookSigner } from './signing.js';
import { PaymentStore } from './store.js';
import type { PayPalSimulator, ReceivedRequest, SimulatorOptions } from './types.js';
import { WebhookDispatcher } from './webhooks.js';

export type { PayPalSimulator, ReceivedRequest, SimulatedOperation, SimulatorFault, SimulatorOptions, WebhookDelivery } from './types.js';

const API_PATH = /^\/v[12]\//;

/**
 * A stateful stand-in for PayPal's REST API (OAuth, Orders v2, Payments v2, webhooks), the buyer's
 * approval page, and fault injection, so the portal's real PayPal client can run against it.
 */
export function createPayPalSimulator(options: SimulatorOptions = {}): PayPalSimulator {
  const credentials = Object.freeze({
    clientId: options.clientId ?? 'sim-client-id',
    clientSecret: options.clientSecret ?? 'sim-client-secret',
    webhookId: options.webhookId ?? 'SIM-WEBHOOK-ID',
  });
  const now = options.now ?? (() => new Date());
  const lifetime = new AbortController();
  // Every delivery in flight (and every retry's wait) listens to it: a burst of payments is more than Node's warning threshold of 10.
  setMaxListeners(0, lifetime.signal);
  const received: ReceivedRequest[] = [];
  let origin: string | null = null;
  let signer: WebhookSigner | null = null;
  let server: Server | null = null;

  const baseUrl = (): string => {
    if (origin === null) throw new Error('the PayPal simulator has not started');
    return origin;
  };
  const startedSigner = (): WebhookSigner => {
    if (signer === null) throw new Error('the PayPal simulator has not started');
    return signer;
  };
  const certUrl = () => `${baseUrl()}/certs/${startedSigner().certificateName}.pem`;

  const faults = new FaultBook();
  const webhooks = new WebhookDispatcher(
    {
      webhookId: credentials.webhookId,
      retry: options.webhookRetry ?? { attempts: 3, delayMs: 200 },
      now,
      signer: startedSigner,
      certUrl,
      mode: (orderId) => faults.webhookMode(orderId),
      signal: lifetime.signal,
    },
    options.webhookUrl ?? null,
  );
  const store: PaymentStore = new PaymentStore({
    now,
    payerActionUrl: (orderId) => payerActionUrl(baseUrl(), orderId),
    emit: (change) => {
      const { event, orderId } = webhookEventOf(change, representations, now(), baseUrl());
      webhooks.publish(event, orderId);
    },
  });
  const representations = new Representations(store, baseUrl, { email: 'merchant@example.com', merchantId: newAccountId() });

  const simulator: PayPalSimulator = {
    async start(port = 0, host = '127.0.0.1') {
      if (server) throw new Error('the PayPal simulator is already started');
      signer = options.signingKeyFile ? await keptWebhookSigner(options.signingKeyFile, now()) : await createWebhookSigner(now());
      server = createServer(app);
      const listening = server;
      await new Promise<void>((resolve, reject) => {
        listening.once('error', reject);
        listening.listen(port, host, () => resolve());
      });
      const { port: actualPort } = listening.address() as AddressInfo;
      origin = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
      return origin;
    },

    async stop() {
      lifetime.abort();
      const running = server;
      if (!running) return;
      await new Promise<void>((resolve) => {
        running.close(() => resolve());
        running.closeAllConnections();
      });
    },

    get baseUrl() {
      return baseUrl();
    },
    credentials,

    setWebhookUrl(url) {
      webhooks.url = url;
    },
    setFault(fault, scope) {
      faults.set(fault, scope?.orderId ?? null);
    },
    clearFaults() {
      faults.clear();
    },

    approve(orderId, payer) {
      return approvedReturnUrl(store.approve(orderId, payer));
    },
    cancel(orderId) {
      const order = store.approvableOrder(orderId);
      if (!order) throw new Error(`order ${orderId} is unknown or can no longer be cancelled`);
      return cancelledReturnUrl(order);
    },
    completePendingCapture: (orderId) => store.completePendingCapture(orderId),
    denyPendingCapture: (orderId) => store.denyPendingCapture(orderId),
    reverseCapture: (orderId) => store.reverseCapture(orderId),
    refundCapture(orderId, amountValue) {
      const captureId = store.order(orderId)?.captureId;
      const capture = captureId ? store.capture(captureId) : undefined;
      if (!capture) throw new Error(`order ${orderId} is unknown or not captured`);
      if (amountValue !== undefined && !isAmountValue(amountValue)) throw new Error(`${amountValue} is not an amount like 10.00`);
      store.refundCapture(capture.id, amountValue === undefined ? {} : { amount: { currency_code: capture.amount.currency_code, value: amountValue } });
    },

    flushWebhooks: () => webhooks.flush(),
    get deliveries() {
      return webhooks.deliveries;
    },
    order(orderId) {
      const order = store.order(orderId);
      return order ? representations.order(order) : undefined;
    },
    get requests() {
      return [...received];
    },
  };

  const api = apiRouter({
    store,
    representations,
    faults,
    tokens: new OAuthTokens(credentials.clientId, credentials.clientSecret, now),
    webhooks,
    signer: startedSigner,
    certUrl,
    requestIds: new RequestIdMemory(),
    signal: lifetime.signal,
    record: (request) => received.push(request),
  });
  const app = express();
  app.disable('x-powered-by');
  app.use((request, response, next) => (API_PATH.test(request.path) ? api(request, response, next) : next()));
  app.use(approvalPageRouter(store, (orderId) => store.approve(orderId)));
  app.use(controlRouter(simulator));
  app.get('/certs/:name', (request, response) => {
    if (signer && request.params.name === `${signer.certificateName}.pem`) response.type('application/x-pem-file').send(signer.certificatePem);
    else response.status(404).type('text').send('No such certificate');
  });
  app.use(unexpectedError);
  return simulator;
}

/** Unreadable bodies keep their 4xx; anything else is a simulator bug, reported on stderr. */
const unexpectedError: ErrorRequestHandler = (error: { status?: number; message?: string }, _request, response, next) => {
  if (response.headersSent) return next(error);
  const status = typeof error.status === 'number' && error.status >= 400 && error.status < 500 ? error.status : 500;
  if (status === 500) console.error(error);
  response.status(status).json({ error: status === 500 ? 'the simulator failed' : error.message });
};
