import { crc32 } from 'node:zlib';

/** PayPal's webhook headers (lower-case, as Node exposes them). */
export const WEBHOOK_HEADERS = {
  transmissionId: 'paypal-transmission-id',
  transmissionTime: 'paypal-transmission-time',
  transmissionSig: 'paypal-transmission-sig',
  certUrl: 'paypal-cert-url',
  authAlgo: 'paypal-auth-algo',
} as const;

export const WEBHOOK_AUTH_ALGO = 'SHA256withRSA';

/**
 * The string PayPal signs for offline verification: transmission id | transmission time | the id of
 * *our* webhook listener | CRC32 of the raw body as a decimal integer. Signed with SHA256withRSA by the
 * key of the certificate at PAYPAL-CERT-URL.
 */
export function webhookSignedMessage(transmissionId: string, transmissionTime: string, webhookId: string, rawBody: Buffer): string {
  return `${transmissionId}|${transmissionTime}|${webhookId}|${crc32(rawBody) >>> 0}`;
}
