import type { CreditDestination } from '../credit-destination.js';

export interface WebhookDestinationOptions {
  url: string;
  /** The HMAC-SHA256 key. */
  secret: string;
  timeoutMs: number;
}

/** STUB — being written: a signed POST per transfer (docs/architecture.md). */
export function createWebhookDestination(options: WebhookDestinationOptions): CreditDestination {
  return {
    kind: 'webhook',
    label: `Webhook at ${new URL(options.url).host}`,
    deduplicates: true,
    send: () => Promise.reject(new Error('not written yet')),
    checkHealth: () => Promise.resolve({ reachable: false, credentialsAccepted: null, detail: 'not written yet' }),
  };
}
