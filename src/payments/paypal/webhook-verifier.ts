import { verify, X509Certificate } from 'node:crypto';
import { WebhookVerificationError, type PaymentWebhookEvent } from '../gateway.js';
import type { PayPalClient } from './client.js';
import { WEBHOOK_AUTH_ALGO, WEBHOOK_HEADERS, webhookSignedMessage } from './webhook-signature.js';

/** Where PayPal serves its webhook signing certificates, per environment. */
export const PAYPAL_CERTIFICATE_ORIGINS = {
  live: ['https://api.paypal.com', 'https://api-m.paypal.com'],
  sandbox: ['https://api.sandbox.paypal.com', 'https://api-m.sandbox.paypal.com'],
} as const;

/** Certificates kept in memory; PayPal rotates a handful, so more than this means someone is probing. */
const MAX_CACHED_CERTIFICATES = 16;

/** PAYPAL-TRANSMISSION-ID: a UUID from PayPal; its spec allows at most 50 word characters, not all digits. */
const TRANSMISSION_ID = /^(?!\d+$)[A-Za-z0-9][\w-]{7,49}$/;
/** PAYPAL-TRANSMISSION-TIME: an RFC 3339 date-time, e.g. 2026-11-23T10:00:00Z. */
const TRANSMISSION_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
/** PayPal's event ids: WH- and dash-separated groups of capitals and digits (WH-2WR32451HC0233532-67976317FL4543714). */
const EVENT_ID = /^WH-[0-9A-Z]+(-[0-9A-Z]+)*$/;
const EVENT_ID_MAX_LENGTH = 64;
/** Event types: dotted capitals (PAYMENT.CAPTURE.COMPLETED, CHECKOUT.PAYMENT-APPROVAL.REVERSED). */
const EVENT_TYPE = /^[A-Z0-9_-]+(\.[A-Z0-9_-]+)*$/;
const EVENT_TYPE_MAX_LENGTH = 100;

export interface WebhookVerifierOptions {
  /** The id of *our* listener, from PayPal's dashboard (part of the signed string). */
  webhookId: string;
  mode: 'offline' | 'online';
  /** Origins a PAYPAL-CERT-URL may point to; anything else is refused before any download. */
  certificateOrigins: readonly string[];
  timeoutMs: number;
  client: PayPalClient;
  now?: () => Date;
}

type Headers = Record<string, string | string[] | undefined>;

/**
 * Verifies a delivery before anything else looks at it. Offline (default): the signature over
 * transmission id | time | webhook id | CRC32(raw body) must verify with the certificate at
 * PAYPAL-CERT-URL, which must be on an allowed origin and currently valid; certificates are cached
 * by URL. Online: PayPal's verify-webhook-signature call decides.
 */
export function createWebhookVerifier(options: WebhookVerifierOptions) {
  const certificates = new Map<string, Promise<X509Certificate>>();
  const now = options.now ?? (() => new Date());

  const certificateAt = (url: string): Promise<X509Certificate> => {
    let certificate = certificates.get(url);
    if (!certificate) {
      if (certificates.size >= MAX_CACHED_CERTIFICATES) certificates.clear();
      certificate = fetch(url, { signal: AbortSignal.timeout(options.timeoutMs), redirect: 'error' })
        .then(async (response) => {
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          return new X509Certificate(await response.text());
        })
        .catch((error: unknown) => {
          certificates.delete(url); // a failed download is not cached: the next delivery tries again
          throw new WebhookVerificationError('untrusted_certificate', `cannot load the signing certificate: ${(error as Error).message}`);
        });
      certificates.set(url, certificate);
    }
    return certificate;
  };

  return async (headers: Headers, rawBody: Buffer): Promise<PaymentWebhookEvent> => {
    const header = (name: string) => {
      const value = headers[name];
      return typeof value === 'string' && value.length > 0 ? value : undefined;
    };
    const transmissionId = header(WEBHOOK_HEADERS.transmissionId);
    const transmissionTime = header(WEBHOOK_HEADERS.transmissionTime);
    const signature = header(WEBHOOK_HEADERS.transmissionSig);
    const certUrl = header(WEBHOOK_HEADERS.certUrl);
    const authAlgo = header(WEBHOOK_HEADERS.authAlgo);
    if (!transmissionId || !transmissionTime || !signature || !certUrl || !authAlgo) {
      throw new WebhookVerificationError('missing_headers', 'a PayPal transmission header is missing');
    }
    if (!TRANSMISSION_ID.test(transmissionId)) throw new WebhookVerificationError('malformed_transmission', "the transmission id does not look like PayPal's");
    const transmission = { id: transmissionId, time: parseTransmissionTime(transmissionTime) };
    const event = parseEvent(rawBody, transmission);

    if (options.mode === 'online') {
      const { body } = await options.client.request('POST', '/v1/notifications/verify-webhook-signature', {
        body: {
          auth_algo: authAlgo,
          cert_url: certUrl,
          transmission_id: transmissionId,
          transmission_sig: signature,
          transmission_time: transmissionTime,
          webhook_id: options.webhookId,
          webhook_event: event.raw,
        },
      });
      if ((body as { verification_status?: string } | null)?.verification_status !== 'SUCCESS') {
        throw new WebhookVerificationError('bad_signature', 'PayPal did not confirm the signature');
      }
      return event.summary;
    }

    if (authAlgo !== WEBHOOK_AUTH_ALGO) throw new WebhookVerificationError('unsupported_algorithm', `unsupported algorithm ${authAlgo}`);
    let parsed: URL;
    try {
      parsed = new URL(certUrl);
    } catch {
      throw new WebhookVerificationError('untrusted_certificate', 'the certificate URL is not a URL');
    }
    if (!options.certificateOrigins.includes(parsed.origin) || parsed.search !== '' || parsed.hash !== '' || parsed.username !== '') {
      throw new WebhookVerificationError('untrusted_certificate', `certificate URL on ${parsed.origin} is not allowed`);
    }
    const certificate = await certificateAt(certUrl);
    const at = now();
    if (at < new Date(certificate.validFrom) || at > new Date(certificate.validTo)) {
      throw new WebhookVerificationError('untrusted_certificate', 'the signing certificate is not valid now');
    }
    const message = webhookSignedMessage(transmissionId, transmissionTime, options.webhookId, rawBody);
    if (!verify('sha256', Buffer.from(message), certificate.publicKey, Buffer.from(signature, 'base64'))) {
      throw new WebhookVerificationError('bad_signature', 'the signature does not match');
    }
    return event.summary;
  };
}

interface WebhookResource {
  id?: unknown;
  custom_id?: unknown;
  purchase_units?: Array<{ custom_id?: unknown }>;
  supplementary_data?: { related_ids?: { order_id?: unknown } };
}

function parseTransmissionTime(header: string): Date {
  const time = TRANSMISSION_TIME.test(header) ? new Date(header) : null;
  if (!time || Number.isNaN(time.getTime())) throw new WebhookVerificationError('malformed_transmission', 'the transmission time is not a date-time');
  return time;
}

/** Reads the event; its id and type are checked before anything stores them. */
function parseEvent(rawBody: Buffer, transmission: PaymentWebhookEvent['transmission']): { raw: unknown; summary: PaymentWebhookEvent } {
  let raw: { id?: unknown; event_type?: unknown; resource?: WebhookResource };
  try {
    raw = JSON.parse(rawBody.toString('utf8')) as typeof raw;
  } catch {
    throw new WebhookVerificationError('malformed_event', 'the body is not JSON');
  }
  if (typeof raw?.id !== 'string' || typeof raw.event_type !== 'string') throw new WebhookVerificationError('malformed_event', 'the event has no id or type');
  if (raw.id.length > EVENT_ID_MAX_LENGTH || !EVENT_ID.test(raw.id)) throw new WebhookVerificationError('malformed_event', "the event id does not look like PayPal's");
  if (raw.event_type.length > EVENT_TYPE_MAX_LENGTH || !EVENT_TYPE.test(raw.event_type)) throw new WebhookVerificationError('malformed_event', "the event type does not look like PayPal's");
  const resource = raw.resource ?? {};
  const isOrder = raw.event_type.startsWith('CHECKOUT.ORDER.');
  const text = (value: unknown) => (typeof value === 'string' && value.length > 0 ? value : null);
  return {
    raw,
    summary: {
      id: raw.id,
      type: raw.event_type,
      transmission,
      providerOrderId: isOrder ? text(resource.id) : text(resource.supplementary_data?.related_ids?.order_id),
      customId: isOrder ? text(resource.purchase_units?.[0]?.custom_id) : text(resource.custom_id),
    },
  };
}
