import { createHash, createPrivateKey, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { generate } from 'selfsigned';

const DAY_MS = 24 * 3600_000;

export interface WebhookSigner {
  /** The certificate PAYPAL-CERT-URL serves (PEM). */
  readonly certificatePem: string;
  /** The file name under /certs/, shaped like PayPal's CERT-… names. */
  readonly certificateName: string;
  /** Base64 SHA256withRSA signature of the message. */
  sign(message: string): string;
  verify(message: string, signature: string): boolean;
}

/**
 * A fresh RSA 2048 key and self-signed certificate per simulator. It is valid from a day before the
 * simulator's clock, so a verifier sharing that clock accepts it.
 */
export async function createWebhookSigner(now: Date): Promise<WebhookSigner> {
  const pems = await generate([{ name: 'commonName', value: 'PayPal simulator webhook signing' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - DAY_MS),
    notAfterDate: new Date(now.getTime() + 365 * DAY_MS),
  });
  const privateKey: KeyObject = createPrivateKey(pems.private);
  const publicKey = new X509Certificate(pems.cert).publicKey;
  return {
    certificatePem: pems.cert,
    certificateName: `CERT-sim-${createHash('sha256').update(pems.cert).digest('hex').slice(0, 16)}`,
    sign: (message) => sign('sha256', Buffer.from(message), privateKey).toString('base64'),
    verify: (message, signature) => verify('sha256', Buffer.from(message), publicKey, Buffer.from(signature, 'base64')),
  };
}
