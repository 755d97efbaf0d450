import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the receiver answers instead of 204: a status, no answer at all, or a connection reset. */
export type ReceiverAnswer = number | 'hang' | 'reset';

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  /** The body as sent, when its signature was good; null otherwise. */
  event: { id: string; type: string; created: string; data?: Record<string, unknown> } | null;
  signatureValid: boolean;
  /** Whether this request's credit was applied (false for a repeat, a ping or a refusal before applying). */
  applied: boolean;
  answer: ReceiverAnswer;
}

export interface CreditWebhookReceiver {
  /** Where to POST; the same after stop() and start(). */
  readonly url: string;
  /** Every request, in order. */
  readonly requests: readonly ReceivedRequest[];
  /** The credits applied, once per event id. */
  readonly applied: ReadonlyArray<{ eventId: string; username: string; amountHundredths: number }>;
  /** The next `times` requests get `answer`; `afterApplying`: the credit is applied first (the answer is lost after). */
  failNext(times: number, answer: ReceiverAnswer, options?: { afterApplying?: boolean; body?: string }): void;
  clearFaults(): void;
  /** Nothing listens on the port any more; held requests are cut. */
  stop(): Promise<void>;
  /** Listens again on the same port, with what it received and applied kept. */
  start(): Promise<void>;
}

const TOLERANCE_SECONDS = 5 * 60;

/**
 * A system receiving credits by webhook, as docs/credit-webhook.md tells one to be written: the signature
 * checked over the raw body with a five-minute tolerance on the timestamp, each event id applied once,
 * 204 for a repeat and a ping, 401 for a bad signature. Besides, it can be told how to fail.
 */
export async function startCreditWebhookReceiver(secret: string): Promise<CreditWebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const applied: Array<{ eventId: string; username: string; amountHundredths: number }> = [];
  let faults: Array<{ answer: ReceiverAnswer; afterApplying: boolean; body: string }> = [];

  const signedByRecharge = (headers: IncomingHttpHeaders, rawBody: Buffer) => {
    const timestamp = String(headers['recharge-timestamp'] ?? '');
    if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) return false;
    const hmac = createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
    const expected = Buffer.from(`v1=${hmac}`);
    const received = Buffer.from(String(headers['recharge-signature'] ?? ''));
    return received.length === expected.length && timingSafeEqual(received, expected);
  };

  const answer = (request: IncomingMessage, response: ServerResponse, how: ReceiverAnswer, body: string) => {
    if (how === 'reset') request.socket.resetAndDestroy();
    else if (how !== 'hang') response.writeHead(how).end(body);
    // hang: no answer; the connection stays open until the sender gives up or the receiver stops.
  };

  const handle = (request: IncomingMessage, response: ServerResponse, rawBody: Buffer) => {
    const signatureValid = signedByRecharge(request.headers, rawBody);
    const event = signatureValid ? (JSON.parse(rawBody.toString('utf8')) as ReceivedRequest['event']) : null;
    const received: ReceivedRequest = { headers: request.headers, event, signatureValid, applied: false, answer: 204 };
    requests.push(received);
    const fault = faults.shift();
    if (fault && !fault.afterApplying) return void answer(request, response, (received.answer = fault.answer), fault.body);
    if (!event) return void answer(request, response, (received.answer = 401), 'bad signature');
    if (event.type === 'credit.transferred' && !applied.some((credit) => credit.eventId === event.id)) {
      applied.push({ eventId: event.id, username: String(event.data?.username), amountHundredths: Number(event.data?.amount_hundredths) });
      received.applied = true;
    }
    if (fault) return void answer(request, response, (received.answer = fault.answer), fault.body);
    answer(request, response, 204, '');
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handle(request, response, Buffer.concat(chunks)));
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/recharge/credits`,
    requests,
    applied,
    failNext(times, how, { afterApplying = false, body = '' } = {}) {
      faults = Array.from({ length: times }, () => ({ answer: how, afterApplying, body }));
    },
    clearFaults() {
      faults = [];
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    start: () => listen(port),
  };
}
