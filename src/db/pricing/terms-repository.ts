import type { Knex } from 'knex';
import type { Locale } from '../../domain/shared/locale.js';
import { toDate, toSafeInteger, type Queryable } from '../database.js';

export interface TermsVersion {
  id: number;
  version: number;
  body: Record<Locale, string>;
  publishedAt: Date;
}

function toTerms(row: Record<string, unknown>): TermsVersion {
  return {
    id: toSafeInteger(row.id),
    version: toSafeInteger(row.version),
    body: { fr: String(row.body_fr), en: String(row.body_en) },
    publishedAt: toDate(row.published_at),
  };
}

/** The version people accept now: the latest published. */
export async function currentTerms(db: Queryable): Promise<TermsVersion | undefined> {
  const row = await db('terms_versions').orderBy('version', 'desc').first();
  return row ? toTerms(row) : undefined;
}

/** Publishes a new version; earlier ones stay, for the orders that accepted them. */
export async function publishTerms(db: Queryable, body: Record<Locale, string>, now: Date): Promise<TermsVersion> {
  const latest = await currentTerms(db);
  const version = (latest?.version ?? 0) + 1;
  await db('terms_versions').insert({ version, body_fr: body.fr, body_en: body.en, published_at: now.toISOString() });
  return (await currentTerms(db)) as TermsVersion;
}

/** The current version with its row locked, so that two publications queue (none when nothing is published yet). */
export async function lockCurrentTerms(trx: Knex.Transaction): Promise<TermsVersion | undefined> {
  const row = await trx('terms_versions').orderBy('version', 'desc').forUpdate().first();
  return row ? toTerms(row) : undefined;
}

export async function findTermsVersion(db: Queryable, version: number): Promise<TermsVersion | undefined> {
  const row = await db('terms_versions').where('version', version).first();
  return row ? toTerms(row) : undefined;
}

/** Every published version, newest first, without their texts. */
export async function listTermsVersions(db: Queryable, page: { limit: number; offset: number }): Promise<{ versions: Array<Omit<TermsVersion, 'body'>>; total: number }> {
  const [rows, count] = await Promise.all([
    db('terms_versions').select('id', 'version', 'published_at').orderBy('version', 'desc').limit(page.limit).offset(page.offset),
    db('terms_versions').count({ total: '*' }).first(),
  ]);
  return {
    total: toSafeInteger(count?.total ?? 0),
    versions: (rows as Array<Record<string, unknown>>).map((row) => ({ id: toSafeInteger(row.id), version: toSafeInteger(row.version), publishedAt: toDate(row.published_at) })),
  };
}
