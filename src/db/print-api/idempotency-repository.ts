import type { Knex } from 'knex';
import { toDate, toSafeInteger, type Queryable } from '../database.js';

/** A response as it was sent: replayed byte for byte. */
export interface StoredResponse {
  status: number;
  body: string;
}

export interface IdempotencyRecord {
  id: number;
  fingerprint: string;
  state: 'in_flight' | 'done';
  lockToken: string;
  lockedAt: Date;
  response: StoredResponse | null;
}

export interface IdempotencyScope {
  apiKeyId: number;
  key: string;
}

/** Inserts the key as in flight and returns the new row's id; null when the key is already there (then read it). */
export async function claimIdempotencyKey(
  db: Queryable,
  scope: IdempotencyScope,
  claim: { fingerprint: string; lockToken: string },
  now: Date,
): Promise<number | null> {
  const inserted: Array<{ id: unknown }> = await db('api_idempotency_keys')
    .insert({
      api_key_id: scope.apiKeyId,
      idempotency_key: scope.key,
      fingerprint: claim.fingerprint,
      state: 'in_flight',
      lock_token: claim.lockToken,
      locked_at: now.toISOString(),
      created_at: now.toISOString(),
    })
    .onConflict(['api_key_id', 'idempotency_key'])
    .ignore()
    .returning('id');
  return inserted.length > 0 ? toSafeInteger(inserted[0]?.id) : null;
}

export async function findIdempotencyKey(db: Queryable, scope: IdempotencyScope): Promise<IdempotencyRecord | undefined> {
  const row = await db('api_idempotency_keys').where({ api_key_id: scope.apiKeyId, idempotency_key: scope.key }).first();
  if (!row) return undefined;
  return {
    id: toSafeInteger(row.id),
    fingerprint: String(row.fingerprint),
    state: row.state === 'done' ? 'done' : 'in_flight',
    lockToken: String(row.lock_token),
    lockedAt: toDate(row.locked_at),
    response: row.state === 'done' ? { status: toSafeInteger(row.response_status), body: String(row.response_body) } : null,
  };
}

/** Takes over an in-flight key whose holder is still `previousToken`; false when someone else did first. */
export async function takeOverIdempotencyKey(db: Queryable, id: number, previousToken: string, lockToken: string, now: Date): Promise<boolean> {
  const updated = await db('api_idempotency_keys')
    .where({ id, state: 'in_flight', lock_token: previousToken })
    .update({ lock_token: lockToken, locked_at: now.toISOString() });
  return updated > 0;
}

/** Saves the response, if this holder still holds the key; false otherwise (then nothing changed). */
export async function completeIdempotencyKey(trx: Knex.Transaction, id: number, lockToken: string, response: StoredResponse): Promise<boolean> {
  const updated = await trx('api_idempotency_keys')
    .where({ id, state: 'in_flight', lock_token: lockToken })
    .update({ state: 'done', response_status: response.status, response_body: response.body });
  return updated > 0;
}

/** Gives a key back after an unexpected failure: nothing was done, a retry may do it. */
export async function releaseIdempotencyKey(db: Queryable, id: number, lockToken: string): Promise<void> {
  await db('api_idempotency_keys').where({ id, state: 'in_flight', lock_token: lockToken }).delete();
}
