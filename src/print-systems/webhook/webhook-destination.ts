import { decimalText } from '../../domain/shared/decimal.js';
import type { CreditDestination, DestinationHealth, TransferToSend } from '../credit-destination.js';
import { post, type PostAnswer } from '../http-post.js';
import { PrintSystemError } from '../print-system-error.js';
import { signWebhook } from './webhook-signature.js';

export interface WebhookDestinationOptions {
  url: string;
  /** The HMAC-SHA256 key. */
  secret: string;
  /** For each POST, from connecting to the answer's last byte. */
  timeoutMs: number;
}

/** What Recharge POSTs (docs/credit-webhook.md); `data` only for credits. */
interface WebhookEvent {
  id: string;
  type: 'credit.transferred' | 'ping';
  created: string;
  data?: Record<string, string | number>;
}

/** Only the status of an answer counts: a receiver answers with an empty or short body. */
const MAX_ANSWER_BYTES = 64 * 1024;
/** How much of a refusal's body an admin sees in the transfer's error: the receiver's reason, if it gave one. */
const REASON_CHARACTERS = 200;

/**
 * Statuses by which the receiver (or a proxy in front of it) refuses the request itself before acting on
 * it: unreadable (400), signature or access refused (401, 403), no such endpoint or method (404, 405,
 * 410), too large or not JSON (413, 415), understood but refused (422, e.g. a person it does not know).
 * The credit was not applied, and the same request would get the same answer: the transfer is parked
 * for an admin, except for the refused credentials (401, 403), retried until someone mends the secret
 * or the receiver's access rules (domain afterDeliveryFailure). Any other status (5xx, 429, 408, 409, a
 * redirect, which is not followed) does not say the credit was received, nor that it was not: it is
 * sent again later with the same event id, which a receiver recognises.
 */
const REFUSED_STATUSES: ReadonlySet<number> = new Set([400, 401, 403, 404, 405, 410, 413, 415, 422]);
const ACCESS_DENIED_STATUSES: ReadonlySet<number> = new Set([401, 403]);

/**
 * Any other system as the destination of credits (MyQ, Gespage, an in-house one): each transfer is one
 * signed POST of a `credit.transferred` event whose id is the same on every attempt, so the receiver
 * applies it once however often it comes; that is why a lost answer may be sent again (`deduplicates`).
 */
export function createWebhookDestination(options: WebhookDestinationOptions): CreditDestination {
  const url = endpointOf(options.url);
  if (options.secret === '') throw new Error('the webhook secret is empty');
  if (!Number.isInteger(options.timeoutMs) || options.timeoutMs <= 0) throw new Error(`the webhook timeout must be a positive number of milliseconds, not ${options.timeoutMs}`);

  /** Resolves on a 2xx; otherwise a PrintSystemError whose kind says whether the event can have been received. */
  async function deliver(event: WebhookEvent): Promise<void> {
    const body = JSON.stringify(event);
    // The time of sending, not of posting: the receiver compares it with its own clock to refuse replays.
    const timestamp = Math.floor(Date.now() / 1000);
    const answer = await post(url, {
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'Recharge',
        'Recharge-Event-Id': event.id,
        'Recharge-Timestamp': String(timestamp),
        'Recharge-Signature': signWebhook(options.secret, timestamp, body),
      },
      body: Buffer.from(body, 'utf8'),
      timeoutMs: options.timeoutMs,
      maxResponseBytes: MAX_ANSWER_BYTES,
    });
    if (answer.status >= 200 && answer.status < 300) return;
    throw statusError(event, answer);
  }

  return {
    kind: 'webhook',
    label: `Webhook at ${url.host}`,
    deduplicates: true,
    send: (transfer) => deliver(creditTransferred(transfer)),
    // The ping is signed like a credit and carries nothing to apply: a receiver answers it 2xx.
    async checkHealth(): Promise<DestinationHealth> {
      try {
        await deliver({ id: `recharge-ping-${Math.floor(Date.now() / 1000)}`, type: 'ping', created: new Date().toISOString() });
        return { reachable: true, credentialsAccepted: true, detail: null };
      } catch (error) {
        if (!(error instanceof PrintSystemError)) throw error;
        const refused = error.details.reason === 'access_denied';
        return { reachable: error.details.httpStatus !== undefined, credentialsAccepted: refused ? false : null, detail: error.message };
      }
    },
  };
}

function creditTransferred(transfer: TransferToSend): WebhookEvent {
  return {
    id: transfer.eventId,
    type: 'credit.transferred',
    created: transfer.postedAt.toISOString(),
    data: {
      username: transfer.username,
      // Both: the decimal text for people and systems that count in units, the integer for exact sums.
      amount: decimalText(transfer.amount),
      amount_hundredths: transfer.amount,
      ledger_transaction_id: transfer.ledgerTransactionId,
      transaction_kind: transfer.transactionKind,
      comment: transfer.comment,
    },
  };
}

function statusError(event: WebhookEvent, answer: PostAnswer): PrintSystemError {
  const reason = answer.body.toString('utf8').replace(/\s+/g, ' ').trim().slice(0, REASON_CHARACTERS);
  const said = reason ? `: ${reason}` : '';
  const httpStatus = answer.status;
  if (REFUSED_STATUSES.has(httpStatus)) {
    return new PrintSystemError('definite_fault', `${event.type} ${event.id}: the receiver refused it, HTTP ${httpStatus}${said}`, {
      reason: ACCESS_DENIED_STATUSES.has(httpStatus) ? 'access_denied' : 'refused',
      httpStatus,
    });
  }
  return new PrintSystemError('unknown_outcome', `${event.type} ${event.id}: the receiver did not acknowledge it, HTTP ${httpStatus}${said}`, { httpStatus });
}

function endpointOf(text: string): URL {
  if (!URL.canParse(text)) throw new Error(`the webhook URL ${JSON.stringify(text)} is not a URL`);
  const url = new URL(text);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`the webhook URL must be http or https, not ${url.protocol}`);
  return url;
}
