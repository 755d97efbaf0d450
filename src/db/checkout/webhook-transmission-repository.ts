import type { Queryable } from '../database.js';

interface WebhookTransmission {
  /** PAYPAL-TRANSMISSION-ID */
  id: string;
  /** PAYPAL-TRANSMISSION-TIME */
  time: Date;
}

/**
 * Whether this transmission was answered 2xx before, and whether its event was handled (by this
 * transmission or another): both in one look-up, which every webhook makes.
 */
export async function webhookSeenBefore(db: Queryable, transmissionId: string, eventId: string): Promise<{ transmission: boolean; event: boolean }> {
  const row: { transmission: unknown; event: unknown } = await db
    .select(
      db.raw('exists (select 1 from webhook_transmissions where transmission_id = ?) as transmission', [transmissionId]),
      db.raw('exists (select 1 from webhook_events where event_id = ?) as event', [eventId]),
    )
    .first();
  // SQLite answers 0 or 1, PostgreSQL a boolean.
  return { transmission: Boolean(row.transmission), event: Boolean(row.event) };
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
