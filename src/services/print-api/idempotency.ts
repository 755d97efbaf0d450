import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { isUniqueViolation, type Database } from '../../db/database.js';
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  findIdempotencyKey,
  releaseIdempotencyKey,
  takeOverIdempotencyKey,
  type IdempotencyScope,
  type StoredResponse,
} from '../../db/print-api/idempotency-repository.js';
import type { Clock } from '../../domain/time/clock.js';
import { DomainError } from '../../domain/shared/errors.js';

export type { IdempotencyScope, StoredResponse };

/** Same key, other request → key_reused (422); same key while the first is running → in_flight (409). */
export class IdempotencyError extends DomainError<'key_reused' | 'in_flight'> {}

/** `Idempotency-Key` values: 1 to 255 visible ASCII characters (a UUID fits with room to spare). */
const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/**
 * How long a request holds its key. A holder that died (process killed) has done nothing, since its
 * work commits together with its saved response; after the lease a retry does the work instead.
 */
export const IDEMPOTENCY_LEASE_MS = 30_000;

/** The key from the header, bare or as a structured-field string (`"…"`, as the IETF draft writes it). */
export function parseIdempotencyKey(header: string | undefined): string | null {
  if (header === undefined) return null;
  const bare = /^"(.*)"$/.exec(header.trim())?.[1] ?? header.trim();
  return IDEMPOTENCY_KEY_PATTERN.test(bare) ? bare : null;
}

/** JSON with its object keys sorted: two bodies that mean the same have the same text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** What makes two requests "the same": method, path and body, whatever the spacing or key order. */
export function requestFingerprint(request: { method: string; path: string; body: unknown }): string {
  return createHash('sha256').update(canonicalJson([request.method.toUpperCase(), request.path, request.body ?? null])).digest('hex');
}

class LeaseLost extends Error {}

/**
 * Runs `work` at most once per key and saves its response in the same database transaction as the
 * work, so a response exists exactly when the work's effects do. `answerFor` turns an expected failure
 * (insufficient balance…) into a response that is saved and replayed too; any other error gives the
 * key back, so that a retry can do the work.
 */
export function createIdempotency({ db, clock, leaseMs = IDEMPOTENCY_LEASE_MS }: { db: Database; clock: Clock; leaseMs?: number }) {
  async function claim(scope: IdempotencyScope, fingerprint: string, lockToken: string): Promise<{ id: number } | { replay: StoredResponse }> {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const now = clock.now();
      const id = await claimIdempotencyKey(db.knex, scope, { fingerprint, lockToken }, now);
      if (id !== null) return { id };
      const record = await findIdempotencyKey(db.knex, scope);
      if (!record) continue; // given back between the two statements: try again
      if (record.fingerprint !== fingerprint) throw new IdempotencyError('key_reused', `idempotency key ${scope.key} was used for another request`);
      if (record.response) return { replay: record.response };
      const expired = now.getTime() - record.lockedAt.getTime() >= leaseMs;
      if (expired && (await takeOverIdempotencyKey(db.knex, record.id, record.lockToken, lockToken, now))) return { id: record.id };
      throw new IdempotencyError('in_flight', `a request with idempotency key ${scope.key} is still running`);
    }
    throw new IdempotencyError('in_flight', `idempotency key ${scope.key} keeps changing hands`);
  }

  async function save(id: number, lockToken: string, produce: (trx: Knex.Transaction) => Promise<StoredResponse>): Promise<StoredResponse> {
    const attempt = () =>
      db.transaction(async (trx) => {
        const response = await produce(trx);
        if (!(await completeIdempotencyKey(trx, id, lockToken, response))) throw new LeaseLost();
        return response;
      });
    try {
      return await attempt();
    } catch (error) {
      // A concurrent request committed the same unique row first (PostgreSQL): once more, the work
      // sees that row and answers accordingly (a reference already debited, for instance).
      if (!isUniqueViolation(error)) throw error;
      return attempt();
    }
  }

  /** After losing the key to a retry: that retry's outcome is the answer. */
  async function outcomeOfOthers(scope: IdempotencyScope): Promise<StoredResponse> {
    const record = await findIdempotencyKey(db.knex, scope);
    if (record?.response) return record.response;
    throw new IdempotencyError('in_flight', `a request with idempotency key ${scope.key} is still running`);
  }

  return {
    async run(
      scope: IdempotencyScope,
      fingerprint: string,
      work: (trx: Knex.Transaction) => Promise<StoredResponse>,
      answerFor: (error: unknown) => StoredResponse | null,
    ): Promise<{ replayed: boolean; response: StoredResponse }> {
      const lockToken = randomBytes(16).toString('hex');
      const claimed = await claim(scope, fingerprint, lockToken);
      if ('replay' in claimed) return { replayed: true, response: claimed.replay };
      try {
        return { replayed: false, response: await save(claimed.id, lockToken, work) };
      } catch (error) {
        if (error instanceof LeaseLost) return { replayed: true, response: await outcomeOfOthers(scope) };
        const answer = answerFor(error);
        if (!answer) {
          await releaseIdempotencyKey(db.knex, claimed.id, lockToken);
          throw error;
        }
        try {
          return { replayed: false, response: await save(claimed.id, lockToken, async () => answer) };
        } catch (saveError) {
          if (saveError instanceof LeaseLost) return { replayed: true, response: await outcomeOfOthers(scope) };
          throw saveError;
        }
      }
    },
  };
}

export type Idempotency = ReturnType<typeof createIdempotency>;
