import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { WEBHOOK_AUTH_ALGO, WEBHOOK_HEADERS, webhookSignedMessage } from '../webhook-signature.js';
import type { WebhookMode } from './faults.js';
import { postBody } from './http-post.js';
import { paypalTime } from './resources.js';
import type { WebhookSigner } from './signing.js';
import type { WebhookDelivery } from './types.js';

export interface WebhookEvent {
  id: string;
  event_version: '1.0';
  create_time: string;
  resource_type: 'checkout-order' | 'capture' | 'refund';
  resource_version: '2.0';
  event_type: string;
  summary: string;
  resource: Record<string, unknown>;
  links: Array<{ href: string; rel: string; method: string }>;
}

export interface DispatcherOptions {
  webhookId: string;
  retry: { attempts: number; delayMs: number };
  now: () => Date;
  /** Throws until the simulator has started (the key is made then). */
  signer: () => WebhookSigner;
  certUrl: () => string;
  mode: (orderId: string) => WebhookMode | null;
  /** Aborted when the simulator stops: ends waits and in-flight deliveries. */
  signal: AbortSignal;
}

/** A receiver that does not answer within this is counted as a network error. */
const DELIVERY_TIMEOUT_MS = 5_000;
/** Duplicates after the second trail the first by this much each; PayPal's sometimes arrive ~70 ms apart. */
const DUPLICATE_SPACING_MS = 70;

/**
 * Signs and POSTs events to the webhook URL, after the API answer that caused them: each copy is a
 * separate transmission (its own id, time and signature), redelivered on a non-2xx or network error.
 * Every attempt is recorded. Nothing here can fail or slow down an API call.
 */
export class WebhookDispatcher {
  url: string | null;
  private readonly recorded: WebhookDelivery[] = [];
  private readonly events = new Map<string, WebhookEvent>();
  private readonly held = new Map<string, WebhookEvent[]>();
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly options: DispatcherOptions,
    url: string | null,
  ) {
    this.url = url;
  }

  get deliveries(): readonly WebhookDelivery[] {
    return [...this.recorded];
  }

  event(eventId: string): WebhookEvent | undefined {
    return this.events.get(eventId);
  }

  publish(event: WebhookEvent, orderId: string): void {
    this.events.set(event.id, event);
    const mode = this.options.mode(orderId);
    if (mode?.reverseOrder) {
      this.held.set(orderId, [...(this.held.get(orderId) ?? []), event]);
      return;
    }
    this.track(this.pause(0).then((waited) => (waited ? this.deliver(event, mode?.duplicates ?? 0) : undefined)));
  }

  /** Releases held events (each order's newest first, one after the other) and waits for every delivery. */
  async flush(): Promise<void> {
    const held = [...this.held.entries()];
    this.held.clear();
    for (const [orderId, events] of held) {
      this.track(
        (async () => {
          for (const event of events.reverse()) await this.deliver(event, this.options.mode(orderId)?.duplicates ?? 0);
        })(),
      );
    }
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** The signature headers a transmission of this body carries. */
  private signedHeaders(body: string): Record<string, string> {
    const transmissionId = randomUUID();
    const transmissionTime = paypalTime(this.options.now());
    const signature = this.options.signer().sign(webhookSignedMessage(transmissionId, transmissionTime, this.options.webhookId, Buffer.from(body)));
    return {
      'content-type': 'application/json',
      [WEBHOOK_HEADERS.transmissionId]: transmissionId,
      [WEBHOOK_HEADERS.transmissionTime]: transmissionTime,
      [WEBHOOK_HEADERS.transmissionSig]: signature,
      [WEBHOOK_HEADERS.certUrl]: this.options.certUrl(),
      [WEBHOOK_HEADERS.authAlgo]: WEBHOOK_AUTH_ALGO,
    };
  }

  private async deliver(event: WebhookEvent, duplicates: number): Promise<void> {
    const body = JSON.stringify(event);
    // The first two copies race each other; any further ones trail behind.
    const copies = Array.from({ length: 1 + duplicates }, (_, copy) => this.deliverCopy(event, body, Math.max(0, copy - 1) * DUPLICATE_SPACING_MS));
    await Promise.all(copies);
  }

  private async deliverCopy(event: WebhookEvent, body: string, delayMs: number): Promise<void> {
    if (delayMs > 0 && !(await this.pause(delayMs))) return;
    const { attempts, delayMs: retryDelayMs } = this.options.retry;
    for (let attempt = 1; attempt <= Math.max(1, attempts); attempt += 1) {
      const url = this.url;
      const headers = this.signedHeaders(body);
      const record = (status: number | null, number: number) => this.recorded.push({ eventId: event.id, eventType: event.event_type, status, attempt: number, body, headers });
      if (url === null) {
        record(null, 0);
        return;
      }
      const status = await postBody(url, headers, body, this.options.signal, DELIVERY_TIMEOUT_MS).catch(() => null);
      if (this.options.signal.aborted) return;
      record(status, attempt);
      if (status !== null && status >= 200 && status < 300) return;
      if (attempt < attempts && !(await this.pause(retryDelayMs))) return;
    }
  }

  /** Resolves true after `ms`, or false at once when the simulator stops. */
  private pause(ms: number): Promise<boolean> {
    return sleep(ms, undefined, { signal: this.options.signal }).then(
      () => true,
      () => false,
    );
  }

  private track(work: Promise<void>): void {
    const tracked: Promise<void> = work
      .catch(() => undefined)
      .finally(() => {
        this.pending.delete(tracked);
      });
    this.pending.add(tracked);
  }
}
