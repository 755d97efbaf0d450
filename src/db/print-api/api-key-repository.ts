import type { ApiKeySummary, NewApiKey } from '../../domain/print-api/api-keys.js';
import { optionalDate, type Queryable, toDate, toSafeInteger } from '../database.js';

/** How stale `last_used_at` may get: one write a minute per key at most, not one per print job. */
const LAST_USE_PRECISION_MS = 60_000;

export interface ActiveApiKey {
  id: number;
  name: string;
  lastUsedAt: Date | null;
}

export async function insertApiKey(db: Queryable, key: { name: string; createdBy: number | null } & NewApiKey, now: Date): Promise<number> {
  const [row] = (await db('api_keys')
    .insert({
      name: key.name,
      key_prefix: key.prefix,
      secret_sha256: key.secretSha256,
      created_by: key.createdBy,
      created_at: now.toISOString(),
    })
    .returning('id')) as Array<{ id: unknown }>;
  return toSafeInteger(row?.id);
}

/** The key a secret belongs to, unless it was revoked. */
export async function findActiveApiKey(db: Queryable, secretSha256: string): Promise<ActiveApiKey | undefined> {
  const row = await db('api_keys').where({ secret_sha256: secretSha256 }).whereNull('revoked_at').first('id', 'name', 'last_used_at');
  return row ? { id: toSafeInteger(row.id), name: String(row.name), lastUsedAt: row.last_used_at == null ? null : toDate(row.last_used_at) } : undefined;
}

export async function recordApiKeyUse(db: Queryable, key: ActiveApiKey, now: Date): Promise<void> {
  if (key.lastUsedAt && now.getTime() - key.lastUsedAt.getTime() < LAST_USE_PRECISION_MS) return;
  await db('api_keys').where('id', key.id).update({ last_used_at: now.toISOString() });
}

/** Every key, active ones first, newest first. */
export async function listApiKeys(db: Queryable): Promise<ApiKeySummary[]> {
  const rows: Array<Record<string, unknown>> = await db('api_keys as key')
    .leftJoin('users as creator', 'creator.id', 'key.created_by')
    .orderByRaw('CASE WHEN key.revoked_at IS NULL THEN 0 ELSE 1 END')
    .orderBy('key.id', 'desc')
    .select('key.id', 'key.name', 'key.key_prefix', 'key.created_at', 'key.last_used_at', 'key.revoked_at', 'creator.username as created_by');
  return rows.map(toSummary);
}

export async function findApiKey(db: Queryable, id: number): Promise<ApiKeySummary | undefined> {
  const row = await db('api_keys as key')
    .leftJoin('users as creator', 'creator.id', 'key.created_by')
    .where('key.id', id)
    .first('key.id', 'key.name', 'key.key_prefix', 'key.created_at', 'key.last_used_at', 'key.revoked_at', 'creator.username as created_by');
  return row ? toSummary(row) : undefined;
}

/** True when this call revoked it; false when it was already revoked. */
export async function revokeApiKey(db: Queryable, id: number, revokedBy: number | null, now: Date): Promise<boolean> {
  const updated = await db('api_keys').where('id', id).whereNull('revoked_at').update({ revoked_at: now.toISOString(), revoked_by: revokedBy });
  return updated > 0;
}

function toSummary(row: Record<string, unknown>): ApiKeySummary {
  return {
    id: toSafeInteger(row.id),
    name: String(row.name),
    prefix: String(row.key_prefix),
    createdBy: row.created_by == null ? null : String(row.created_by),
    createdAt: toDate(row.created_at),
    lastUsedAt: optionalDate(row.last_used_at),
    revokedAt: optionalDate(row.revoked_at),
  };
}
