import type { Knex } from 'knex';
import type { Hundredths } from '../../domain/ledger/ledger.js';
import type { VoucherBatch } from '../../domain/vouchers/voucher-batches.js';
import type { DayKey } from '../../domain/time/calendar.js';
import { toDate, toSafeInteger, type Queryable } from '../database.js';

/**
 * Codes per INSERT: knex writes a multi-row insert on SQLite as one SELECT per row joined by UNION ALL,
 * and SQLite allows 500 of them (SQLITE_MAX_COMPOUND_SELECT); 10,000 codes are 20 statements.
 */
const CODE_CHUNK = 500;

const BATCH_COLUMNS = [
  'b.id',
  'b.name',
  'b.code_count',
  'b.value',
  'b.expires_on',
  'b.created_at',
  'b.voided_at',
  'b.redeemed_count',
  'b.redeemed_units',
  'creator.username as created_by_username',
  'voider.username as voided_by_username',
];

const batches = (db: Queryable) =>
  db('voucher_batches as b').join('users as creator', 'creator.id', 'b.created_by').leftJoin('users as voider', 'voider.id', 'b.voided_by');

function toBatch(row: Record<string, unknown>): VoucherBatch {
  return {
    id: toSafeInteger(row.id),
    name: String(row.name),
    count: toSafeInteger(row.code_count),
    value: toSafeInteger(row.value),
    expiresOn: String(row.expires_on),
    createdBy: String(row.created_by_username),
    createdAt: toDate(row.created_at),
    voidedAt: row.voided_at == null ? null : toDate(row.voided_at),
    voidedBy: row.voided_by_username == null ? null : String(row.voided_by_username),
    redeemedCount: toSafeInteger(row.redeemed_count),
    redeemedUnits: toSafeInteger(row.redeemed_units),
  };
}

/** A batch of `count` codes, inserted inside the caller's transaction (its codes by insertBatchCodes). */
export async function insertVoucherBatch(
  trx: Knex.Transaction,
  batch: { name: string; count: number; value: Hundredths; expiresOn: DayKey; createdBy: number },
  now: Date,
): Promise<number> {
  const [row]: Array<{ id: unknown }> = await trx('voucher_batches')
    .insert({ name: batch.name, code_count: batch.count, value: batch.value, expires_on: batch.expiresOn, created_by: batch.createdBy, created_at: now.toISOString() })
    .returning('id');
  return toSafeInteger(row?.id);
}

/** Codes' hashes for a batch, inserted in chunks inside the caller's transaction. */
export async function insertBatchCodes(trx: Knex.Transaction, batchId: number, codeHashes: readonly string[]): Promise<void> {
  for (let start = 0; start < codeHashes.length; start += CODE_CHUNK) {
    await trx('voucher_codes').insert(codeHashes.slice(start, start + CODE_CHUNK).map((hash) => ({ batch_id: batchId, code_sha256: hash })));
  }
}

/**
 * Marks the batch's codes not redeemed (nor replaced) yet as replaced; answers how many. A redemption
 * claiming one of them meanwhile either committed first (the code is redeemed, not replaced) or finds
 * it replaced and redeems nothing (claimCode's guard).
 */
export async function replaceUnredeemedCodes(trx: Knex.Transaction, batchId: number, now: Date): Promise<number> {
  return trx('voucher_codes').where('batch_id', batchId).whereNull('redeemed_at').whereNull('replaced_at').update({ replaced_at: now.toISOString() });
}

/** Newest first, a page at a time; the list reads only the batches' rows. */
export async function listVoucherBatches(db: Queryable, { limit, offset }: { limit: number; offset: number }): Promise<{ batches: VoucherBatch[]; total: number }> {
  const [rows, count] = await Promise.all([
    batches(db).orderBy('b.id', 'desc').limit(limit).offset(offset).select(BATCH_COLUMNS),
    db('voucher_batches').count({ total: '*' }).first(),
  ]);
  return { batches: (rows as Array<Record<string, unknown>>).map(toBatch), total: toSafeInteger(count?.total ?? 0) };
}

export async function findVoucherBatch(db: Queryable, id: number): Promise<VoucherBatch | undefined> {
  const row = (await batches(db).where('b.id', id).first(BATCH_COLUMNS)) as Record<string, unknown> | undefined;
  return row && toBatch(row);
}

/** The batch, locked against a redemption or another void until the caller's transaction ends. */
export async function lockVoucherBatch(trx: Knex.Transaction, id: number): Promise<VoucherBatch | undefined> {
  await trx('voucher_batches').where('id', id).forUpdate().first('id');
  return findVoucherBatch(trx, id);
}

/** Sets the batch voided, unless it already was: false then. `by` is null when the portal voids it (its purchase was refunded). */
export async function markBatchVoided(trx: Knex.Transaction, id: number, { by }: { by: number | null }, now: Date): Promise<boolean> {
  return (await trx('voucher_batches').where('id', id).whereNull('voided_at').update({ voided_at: now.toISOString(), voided_by: by })) === 1;
}

export interface RedemptionRow {
  codeId: number;
  username: string;
  displayName: string;
  redeemedAt: Date;
  ledgerTransactionId: number;
}

/** A batch's redemptions, newest first: read through the index on (batch, redeemed_at, id), never its unredeemed codes. */
export async function listBatchRedemptions(db: Queryable, batchId: number, { limit, offset }: { limit: number; offset: number }): Promise<RedemptionRow[]> {
  const rows = (await db('voucher_codes as c')
    .join('users as u', 'u.id', 'c.redeemed_by')
    .where('c.batch_id', batchId)
    .whereNotNull('c.redeemed_at')
    .orderBy([
      { column: 'c.redeemed_at', order: 'desc' },
      { column: 'c.id', order: 'desc' },
    ])
    .limit(limit)
    .offset(offset)
    .select('c.id', 'u.username', 'u.display_name', 'c.redeemed_at', 'c.ledger_transaction_id')) as Array<Record<string, unknown>>;
  return rows.map((row) => ({
    codeId: toSafeInteger(row.id),
    username: String(row.username),
    displayName: String(row.display_name ?? ''),
    redeemedAt: toDate(row.redeemed_at),
    ledgerTransactionId: toSafeInteger(row.ledger_transaction_id),
  }));
}

export interface FoundCode {
  id: number;
  batchId: number;
  redeemedBy: number | null;
  redeemedAt: Date | null;
  /** Set when the code was replaced by a new one: refused from then on. */
  replacedAt: Date | null;
}

const CODE_COLUMNS = ['id', 'batch_id', 'redeemed_by', 'redeemed_at', 'replaced_at'];

/** The code with this hash, if any: one indexed read. */
export async function findCodeByHash(db: Queryable, codeSha256: string): Promise<FoundCode | undefined> {
  return toCode(await db('voucher_codes').where('code_sha256', codeSha256).first(CODE_COLUMNS));
}

export async function findCode(db: Queryable, id: number): Promise<FoundCode | undefined> {
  return toCode(await db('voucher_codes').where('id', id).first(CODE_COLUMNS));
}

function toCode(row: Record<string, unknown> | undefined): FoundCode | undefined {
  return (
    row && {
      id: toSafeInteger(row.id),
      batchId: toSafeInteger(row.batch_id),
      redeemedBy: row.redeemed_by == null ? null : toSafeInteger(row.redeemed_by),
      redeemedAt: row.redeemed_at == null ? null : toDate(row.redeemed_at),
      replacedAt: row.replaced_at == null ? null : toDate(row.replaced_at),
    }
  );
}

/**
 * Claims the code for the person: a guarded update that only an unredeemed, unreplaced code passes. Two
 * redemptions of one code at once: on PostgreSQL the second waits for the first's row lock, then
 * finds `redeemed_at` set and updates nothing; SQLite runs them one after the other. True if claimed.
 */
export async function claimCode(trx: Knex.Transaction, codeId: number, userId: number, now: Date): Promise<boolean> {
  return (await trx('voucher_codes').where('id', codeId).whereNull('redeemed_at').whereNull('replaced_at').update({ redeemed_at: now.toISOString(), redeemed_by: userId })) === 1;
}

export async function recordCodeTransaction(trx: Knex.Transaction, codeId: number, ledgerTransactionId: number): Promise<void> {
  await trx('voucher_codes').where('id', codeId).update({ ledger_transaction_id: ledgerTransactionId });
}

/**
 * Counts a redemption in its batch, only while the batch is not voided: voiding writes the same row,
 * so on PostgreSQL a void committed meanwhile is seen here (the guard is evaluated again on the
 * committed row) and the redemption rolls back. True if counted.
 */
export async function countBatchRedemption(trx: Knex.Transaction, batchId: number, value: Hundredths): Promise<boolean> {
  const updated = await trx('voucher_batches')
    .where('id', batchId)
    .whereNull('voided_at')
    .update({ redeemed_count: trx.raw('redeemed_count + 1'), redeemed_units: trx.raw('redeemed_units + ?', [value]) });
  return updated === 1;
}
