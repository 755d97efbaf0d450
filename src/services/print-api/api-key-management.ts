import { findApiKey, insertApiKey, listApiKeys, revokeApiKey } from '../../db/print-api/api-key-repository.js';
import { recordAudit } from '../../db/audit/audit-repository.js';
import type { Database } from '../../db/database.js';
import { API_KEY_NAME_MAX, apiKeyFromSecret, generateApiKey } from '../../domain/print-api/api-keys.js';
import type { Clock } from '../../domain/time/clock.js';
import { DomainError } from '../../domain/shared/errors.js';
import type { Actor } from '../people/user-management.js';

export type ApiKeyErrorCode = 'invalid_name' | 'api_key_not_found';
export class ApiKeyError extends DomainError<ApiKeyErrorCode> {}

/**
 * Characters that would make a name lie in the admin list or the audit log: control characters
 * (C0 and C1), line and paragraph separators, and the bidirectional overrides and isolates.
 */
const MISLEADING_CHARACTERS = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

/** A print server's name: printable, 1 to 100 characters once trimmed. */
export function validateApiKeyName(name: unknown): string {
  const trimmed = typeof name === 'string' ? name.trim() : '';
  if (trimmed.length === 0 || trimmed.length > API_KEY_NAME_MAX || MISLEADING_CHARACTERS.test(trimmed)) {
    throw new ApiKeyError('invalid_name', `a key name is 1 to ${API_KEY_NAME_MAX} printable characters`);
  }
  return trimmed;
}

/** Creating and revoking print-server keys, each audited in the transaction that makes the change. */
export function createApiKeyManagement({ db, clock }: { db: Database; clock: Clock }) {
  return {
    list: () => listApiKeys(db.knex),

    /** Returns the secret, which exists nowhere else afterwards: the caller shows it once. */
    async create(input: { name: unknown; actor: Actor | null; secret?: string }): Promise<{ id: number; secret: string }> {
      const name = validateApiKeyName(input.name);
      const key = input.secret === undefined ? generateApiKey() : apiKeyFromSecret(input.secret);
      const now = clock.now();
      const id = await db.transaction(async (trx) => {
        const created = await insertApiKey(trx, { name, createdBy: input.actor?.id ?? null, ...key }, now);
        if (input.actor) {
          await recordAudit(trx, { actor: input.actor, action: 'api_key.create', target: name, before: null, after: { id: created, name, prefix: key.prefix } }, now);
        }
        return created;
      });
      return { id, secret: key.secret };
    },

    /** Idempotent: revoking a revoked key changes nothing and writes no audit row. */
    async revoke(id: number, actor: Actor): Promise<'revoked' | 'already_revoked'> {
      const now = clock.now();
      return db.transaction(async (trx) => {
        const key = await findApiKey(trx, id);
        if (!key) throw new ApiKeyError('api_key_not_found', `no API key ${id}`);
        if (!(await revokeApiKey(trx, id, actor.id, now))) return 'already_revoked';
        await recordAudit(trx, { actor, action: 'api_key.revoke', target: key.name, before: { id, prefix: key.prefix }, after: { revokedAt: now.toISOString() } }, now);
        return 'revoked';
      });
    },
  };
}

export type ApiKeyManagement = ReturnType<typeof createApiKeyManagement>;
