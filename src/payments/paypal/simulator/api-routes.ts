import express, { type Request, type Response, type Router } from 'express';
import { WEBHOOK_AUTH_ALGO, webhookSignedMessage } from '../webhook-signature.js';
import { answer, errorResult, jsonBody, send, type Operation, type PipelineDependencies } from './api-pipeline.js';
import { apiError, authenticationFailure, resourceNotFound, type PayPalApi } from './errors.js';
import type { OAuthTokens } from './oauth.js';
import { parseOrderRequest } from './order-request.js';
import { parseRefundRequest } from './refund-request.js';
import type { OrderView, Representations } from './resources.js';
import type { WebhookSigner } from './signing.js';
import type { PaymentStore } from './store.js';
import type { ReceivedRequest } from './types.js';
import type { WebhookDispatcher } from './webhooks.js';

export interface ApiDependencies extends PipelineDependencies {
  store: PaymentStore;
  representations: Representations;
  tokens: OAuthTokens;
  webhooks: WebhookDispatcher;
  signer: () => WebhookSigner;
  certUrl: () => string;
  /** Receives every call once its answer has gone (or the connection closed). */
  record: (request: ReceivedRequest) => void;
}

const VERIFY_FIELDS = ['auth_algo', 'cert_url', 'transmission_id', 'transmission_sig', 'transmission_time', 'webhook_id'] as const;

/** PayPal's REST API as the portal uses it: OAuth, Orders v2, Payments v2 and the webhook helpers. */
export function apiRouter(deps: ApiDependencies): Router {
  const router = express.Router();
  router.use(express.text({ type: () => true, limit: '1mb' }));
  router.use(recordCalls(deps.record));

  router.post('/v1/oauth2/token', (request, response) =>
    answer(deps, request, response, {
      api: 'orders',
      name: 'token',
      orderId: null,
      idempotent: false,
      perform: () => deps.tokens.exchange(request.get('authorization'), typeof request.body === 'string' ? request.body : ''),
    }),
  );

  router.use((request, response, next) => {
    if (deps.tokens.accepts(request.get('authorization'))) next();
    else send(response, errorResult(authenticationFailure()));
  });

  router.post('/v2/checkout/orders', (request, response) =>
    answer(deps, request, response, {
      api: 'orders',
      name: 'create',
      orderId: null,
      idempotent: true,
      replayStatus: 200,
      perform: () => {
        const order = deps.store.createOrder(parseOrderRequest(jsonBody(request, 'orders', { optional: false })));
        return { status: 201, body: deps.representations.order(order, orderView(request, 'minimal-create')) };
      },
    }),
  );

  router.get('/v2/checkout/orders/:id', (request, response) => {
    const orderId = param(request);
    return answer(deps, request, response, {
      api: 'orders',
      name: 'get',
      orderId,
      idempotent: false,
      perform: () => {
        const order = deps.store.order(orderId);
        if (!order) throw resourceNotFound('orders');
        return { status: 200, body: deps.representations.order(order) };
      },
    });
  });

  router.post('/v2/checkout/orders/:id/capture', (request, response) => {
    const orderId = param(request);
    return answer(deps, request, response, {
      api: 'orders',
      name: 'capture',
      orderId,
      idempotent: true,
      replayStatus: 200,
      replaysRefusals: true,
      perform: () => {
        jsonBody(request, 'orders', { optional: true });
        const order = deps.store.captureOrder(orderId, deps.faults.captureOutcome(orderId));
        return { status: 201, body: deps.representations.order(order, orderView(request, 'minimal-capture')) };
      },
    });
  });

  router.get('/v2/payments/captures/:id', (request, response) => {
    const capture = deps.store.capture(param(request));
    return answer(deps, request, response, {
      ...paymentsOperation('get', capture?.orderId),
      perform: () => {
        if (!capture) throw resourceNotFound('payments');
        return { status: 200, body: deps.representations.capture(capture, true) };
      },
    });
  });

  router.post('/v2/payments/captures/:id/refund', (request, response) => {
    const captureId = param(request);
    const orderId = deps.store.capture(captureId)?.orderId;
    return answer(deps, request, response, {
      ...paymentsOperation('refund', orderId),
      idempotent: true,
      perform: () => {
        const sent = parseRefundRequest(jsonBody(request, 'payments', { optional: true }));
        const refund = deps.store.refundCapture(captureId, orderId && deps.faults.ignoresRefundInvoiceId(orderId) ? { ...sent, invoice_id: undefined } : sent);
        return { status: 201, body: deps.representations.refund(refund, false) };
      },
    });
  });

  router.get('/v2/payments/refunds/:id', (request, response) => {
    const refund = deps.store.refund(param(request));
    return answer(deps, request, response, {
      ...paymentsOperation('get', refund?.orderId),
      perform: () => {
        if (!refund) throw resourceNotFound('payments');
        return { status: 200, body: deps.representations.refund(refund, false) };
      },
    });
  });

  router.post('/v1/notifications/verify-webhook-signature', (request, response) =>
    answer(deps, request, response, { ...notificationsOperation(), perform: () => verifySignature(deps, jsonBody(request, 'notifications', { optional: false })) }),
  );

  router.get('/v1/notifications/webhooks-events/:id', (request, response) =>
    answer(deps, request, response, {
      ...notificationsOperation(),
      perform: () => {
        const event = deps.webhooks.event(param(request));
        if (!event) throw resourceNotFound('notifications');
        return { status: 200, body: event };
      },
    }),
  );

  router.use((request, response) => send(response, errorResult(resourceNotFound(apiOf(request.path)))));
  return router;
}

/**
 * The online verification: PayPal re-serializes `webhook_event` and checks the signature against it,
 * so an event that was parsed and re-encoded differently fails, as it does at PayPal.
 */
function verifySignature(deps: ApiDependencies, body: unknown) {
  const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const missing = [...VERIFY_FIELDS.filter((key) => typeof fields[key] !== 'string'), ...(typeof fields.webhook_event === 'object' && fields.webhook_event !== null ? [] : ['webhook_event'])];
  if (missing.length > 0) throw apiError('notifications', 400, missing.map((key) => ({ field: `/${key}`, location: 'body' as const, issue: 'MISSING_REQUIRED_PARAMETER' })));
  const text = (key: (typeof VERIFY_FIELDS)[number]) => fields[key] as string;
  const message = webhookSignedMessage(text('transmission_id'), text('transmission_time'), text('webhook_id'), Buffer.from(JSON.stringify(fields.webhook_event)));
  const verified = text('auth_algo') === WEBHOOK_AUTH_ALGO && text('cert_url') === deps.certUrl() && deps.signer().verify(message, text('transmission_sig'));
  return { status: 200, body: { verification_status: verified ? 'SUCCESS' : 'FAILURE' } };
}

function paymentsOperation(name: 'get' | 'refund', orderId: string | undefined): Omit<Operation, 'perform'> {
  return { api: 'payments', name, orderId: orderId ?? null, idempotent: false };
}

function notificationsOperation(): Omit<Operation, 'perform'> {
  return { api: 'notifications', name: null, orderId: null, idempotent: false };
}

/** PayPal answers minimally unless asked for `Prefer: return=representation`. */
function orderView(request: Request, minimal: OrderView): OrderView {
  return /return=representation/i.test(request.get('prefer') ?? '') ? 'full' : minimal;
}

function param(request: Request): string {
  return String(request.params.id);
}

function apiOf(path: string): PayPalApi {
  if (path.startsWith('/v2/payments')) return 'payments';
  return path.startsWith('/v1/notifications') ? 'notifications' : 'orders';
}

function recordCalls(record: ApiDependencies['record']) {
  return (request: Request, response: Response, next: () => void) => {
    response.on('close', () =>
      record({
        method: request.method,
        path: request.originalUrl.split('?')[0] ?? request.originalUrl,
        requestId: request.get('paypal-request-id') ?? null,
        status: response.statusCode,
        body: readableBody(request),
      }),
    );
    next();
  };
}

/** The body as the caller meant it: JSON, a form, or the text itself when it is neither. */
function readableBody(request: Request): unknown {
  const text = typeof request.body === 'string' ? request.body : '';
  if (text === '') return null;
  if (request.is('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
