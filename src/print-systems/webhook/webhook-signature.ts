import { createHmac } from 'node:crypto';

/**
 * The signature a receiver checks (docs/credit-webhook.md): HMAC-SHA256 keyed by the shared secret over
 * `<timestamp>.<body>`, in hex, as `v1=<hex>`. The scheme is Stripe's: the timestamp inside the signed
 * text lets the receiver refuse an old request replayed by someone who captured it, and the version
 * prefix lets a later scheme be sent beside this one while receivers move over.
 */
export function signWebhook(secret: string, timestampSeconds: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`, 'utf8').digest('hex')}`;
}
