/** The simulator's public shapes; `index.ts` re-exports them with `createPayPalSimulator`. */

export interface SimulatorOptions {
  /** Default 'sim-client-id'. */
  clientId?: string;
  /** Default 'sim-client-secret'. */
  clientSecret?: string;
  /** The id of the portal's webhook listener, part of the signed string; default 'SIM-WEBHOOK-ID'. */
  webhookId?: string;
  /** Where webhooks are POSTed; null keeps them undelivered (still listed in `deliveries`). */
  webhookUrl?: string | null;
  /** The clock for timestamps, token lifetimes and order expiry; default real time. */
  now?: () => Date;
  /** Redelivery on a non-2xx answer or a network error; `attempts` counts the first one. Default { attempts: 3, delayMs: 200 }. */
  webhookRetry?: { attempts: number; delayMs: number };
  /** Where the webhook signing key and certificate are kept for the next start (demo mode); by default a fresh key per start. */
  signingKeyFile?: string;
}

export type SimulatedOperation = 'token' | 'create' | 'get' | 'capture' | 'refund' | 'any';

export type SimulatorFault =
  /** Capture answers 422 INSTRUMENT_DECLINED; the order stays APPROVED and the buyer must approve again. */
  | { type: 'decline' }
  /** Capture answers 422 with this issue (PAYEE_BLOCKED_TRANSACTION, PAYER_ACTION_REQUIRED…); nothing is captured and the order stays APPROVED. */
  | { type: 'refuse'; issue: string }
  /** Capture succeeds with capture status PENDING (status_details.reason, default PENDING_REVIEW). */
  | { type: 'pending'; reason?: string }
  /** The next `times` matching calls answer 500; with afterEffect the operation is performed first. */
  | { type: 'http500'; times: number; operation?: SimulatedOperation; afterEffect?: boolean }
  /** The operation is performed and its answer comes `ms` later; times default 1. */
  | { type: 'delay'; ms: number; times?: number; operation?: SimulatedOperation }
  /** The operation is performed, then the answer's body is cut short (not JSON); times default 1. */
  | { type: 'garbled'; times?: number; operation?: SimulatedOperation }
  /** Each event is delivered 1 + duplicates times; reverseOrder holds an order's events until flushWebhooks(), then newest first. */
  | { type: 'webhooks'; duplicates?: number; reverseOrder?: boolean }
  /** Refunds ignore the invoice_id they are sent and keep the order's, as if PayPal dropped the field. */
  | { type: 'refundInvoiceIgnored' };

export interface WebhookDelivery {
  eventId: string;
  eventType: string;
  /** The receiver's HTTP status; null after a network error, or when no webhook URL is set. */
  status: number | null;
  /** 1 for the first attempt; 0 when nothing was sent (no webhook URL). */
  attempt: number;
  body: string;
  headers: Record<string, string>;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  requestId: string | null;
  status: number;
  body: unknown;
}

export interface PayPalSimulator {
  /** Listens (default port 0, host 127.0.0.1) and resolves with the base URL. */
  start(port?: number, host?: string): Promise<string>;
  /** Closes the server, its connections, pending deliveries and timers. */
  stop(): Promise<void>;
  /** Throws before start. */
  readonly baseUrl: string;
  readonly credentials: { clientId: string; clientSecret: string; webhookId: string };
  setWebhookUrl(url: string | null): void;
  /** scope.orderId is a PayPal order id; without it the fault is global. */
  setFault(fault: SimulatorFault, scope?: { orderId?: string }): void;
  clearFaults(): void;
  /** As the buyer clicking "Approve": returns return_url?token=<orderId>&PayerID=<id>; emits CHECKOUT.ORDER.APPROVED. */
  approve(orderId: string, payer?: { payerId?: string; email?: string }): string;
  /** As the buyer clicking "Cancel": returns cancel_url?token=<orderId>. */
  cancel(orderId: string): string;
  /** PENDING → COMPLETED, emits PAYMENT.CAPTURE.COMPLETED. */
  completePendingCapture(orderId: string): void;
  /** PENDING → DECLINED, emits PAYMENT.CAPTURE.DENIED. */
  denyPendingCapture(orderId: string): void;
  /** A chargeback: the capture becomes REVERSED, emits PAYMENT.CAPTURE.REVERSED. */
  reverseCapture(orderId: string): void;
  /** A refund made from PayPal's dashboard (default: what is left); emits PAYMENT.CAPTURE.REFUNDED. */
  refundCapture(orderId: string, amountValue?: string): void;
  /** Releases held events and resolves when every delivery, retries included, has finished. */
  flushWebhooks(): Promise<void>;
  readonly deliveries: readonly WebhookDelivery[];
  /** The order as GET /v2/checkout/orders/{id} shows it; undefined when unknown. */
  order(orderId: string): unknown;
  /** Every /v1 and /v2 call received, with its answer's status. */
  readonly requests: ReadonlyArray<ReceivedRequest>;
}
