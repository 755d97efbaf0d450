import type { Queryable } from '../database.js';

interface WebhookTransmission {
  /** PAYPAL-TRANSMISSION-ID */
  id: string;
  /** PAYPAL-TRANSMISSION-TIME */
  time: Date;
}

export async function hasWebhookTransmission(db: Queryable, transmissionId: string): Promise<boolean> {
  return (await db('webhook_transmissions').where('transmission_id', transmissionId).first('transmission_id')) !== undefined;
}

/** Remembers a transmission answered 2xx (written with the effect it caused, so a 503 leaves nothing behind). */
export async function recordWebhookTransmission(db: Queryable, transmission: WebhookTransmission & { eventId: string }, now: Date): Promise<void> {
  await db('webhook_transmissions')
    .insert({ transmission_id: transmission.id, event_id: transmission.eventId, transmission_time: transmission.time.toISOString(), received_at: now.toISOString() })
    .onConflict('transmission_id')
    .ignore();
}

/** Forgets transmissions sent before `before`: they are refused as stale anyway, so the table stays bounded. */
export async function purgeWebhookTransmissions(db: Queryable, before: Date): Promise<number> {
  return db('webhook_transmissions').where('transmission_time', '<', before.toISOString()).delete();
}
