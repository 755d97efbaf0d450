import type { Database, Queryable } from '../database.js';

const TABLE = 'login_familiar_sources';

/** Whether the person signed in from this source (its digest) at `since` or later. */
export async function isFamiliarSource(db: Queryable, userId: number, sourceDigest: string, since: number): Promise<boolean> {
  const row = await db(TABLE).where({ user_id: userId, source_sha256: sourceDigest }).andWhere('last_signed_in_at', '>=', since).first('user_id');
  return row !== undefined;
}

/**
 * Records a sign-in from this source, and forgets the person's sources older than `since` or beyond
 * the `keep` most recent: the list stays short whatever the person does.
 */
export async function rememberSource(db: Database, sign: { userId: number; sourceDigest: string; now: number; keep: number; since: number }): Promise<void> {
  await db.transaction(async (trx) => {
    await trx(TABLE)
      .insert({ user_id: sign.userId, source_sha256: sign.sourceDigest, last_signed_in_at: sign.now })
      .onConflict(['user_id', 'source_sha256'])
      .merge(['last_signed_in_at']);
    const newest = trx(TABLE).where('user_id', sign.userId).orderBy('last_signed_in_at', 'desc').orderBy('source_sha256').limit(sign.keep).select('source_sha256');
    await trx(TABLE)
      .where('user_id', sign.userId)
      .andWhere((forgotten) => void forgotten.where('last_signed_in_at', '<', sign.since).orWhereNotIn('source_sha256', newest))
      .del();
  });
}
