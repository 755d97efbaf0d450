import { PricingError, parseAmount } from '../pricing/pricing.js';
import type { Hundredths } from '../ledger/ledger.js';
import { DomainError } from '../shared/errors.js';
import { addDays, parseDay, type DayKey } from '../time/calendar.js';

export const BATCH_NAME_MAX = 100;
/** The most codes one batch holds: a year's welcome packs of a large university, drawn in seconds. */
export const BATCH_MAX_COUNT = 10_000;
/** The most one code is worth: 10,000 units. A larger gift is an admin's credit, with its reason. */
export const VOUCHER_MAX_VALUE: Hundredths = 1_000_000;
/** The last day a code may be valid is at most this many days away: five years. */
export const VOUCHER_MAX_DAYS = 5 * 366;

export const HANDOVER_FORMATS = ['pdf', 'csv'] as const;
export type HandoverFormat = (typeof HANDOVER_FORMATS)[number];

export interface VoucherBatchRequest {
  name: string;
  count: number;
  value: Hundredths;
  /** The last day (portal's time zone) the codes may be redeemed. */
  expiresOn: DayKey;
  format: HandoverFormat;
}

/** A form's fields, and `total` for a purchase whose price is too high. */
export type BatchField = keyof VoucherBatchRequest | 'total';
export type BatchProblem = 'required' | 'invalid' | 'too_long' | 'out_of_range' | 'in_the_past' | 'too_soon' | 'too_far';

/** Control, bidirectional and line-separator characters: a batch name is shown in pages and printed. */
const MISLEADING_CHARACTERS = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

export class VoucherBatchError extends DomainError<'invalid_batch'> {
  constructor(readonly problems: Partial<Record<BatchField, BatchProblem>>) {
    super('invalid_batch', `invalid batch: ${Object.entries(problems).map(([field, problem]) => `${field} ${problem}`).join(', ')}`);
  }
}

const text = (value: unknown) => (typeof value === 'string' ? value.trim() : '');

/** The generation form as typed (`value` in units, "12,50"), checked whole: every problem is reported at once. */
export function checkBatchRequest(input: Record<string, unknown>, today: DayKey): VoucherBatchRequest {
  const problems: Partial<Record<BatchField, BatchProblem>> = {};
  const fields = checkBatchFields(input, today, problems);
  const format = (HANDOVER_FORMATS as readonly unknown[]).includes(input.format) ? (input.format as HandoverFormat) : null;
  if (!format) problems.format = 'required';

  if (Object.keys(problems).length > 0) throw new VoucherBatchError(problems);
  return { ...fields, format: format! };
}

/** What a batch is (name, count, value, last day) as typed, its problems added to `problems`. */
export function checkBatchFields(input: Record<string, unknown>, today: DayKey, problems: Partial<Record<BatchField, BatchProblem>>): Omit<VoucherBatchRequest, 'format'> {
  const name = text(input.name);
  if (name === '') problems.name = 'required';
  else if (name.length > BATCH_NAME_MAX) problems.name = 'too_long';
  else if (MISLEADING_CHARACTERS.test(name)) problems.name = 'invalid';

  const countText = text(input.count);
  const count = /^\d{1,6}$/.test(countText) ? Number(countText) : NaN;
  if (countText === '') problems.count = 'required';
  else if (!Number.isInteger(count)) problems.count = 'invalid';
  else if (count < 1 || count > BATCH_MAX_COUNT) problems.count = 'out_of_range';

  let value = 0;
  if (text(input.value) === '') problems.value = 'required';
  else {
    try {
      value = parseAmount(input.value);
      if (value < 1 || value > VOUCHER_MAX_VALUE) problems.value = 'out_of_range';
    } catch (error) {
      if (!(error instanceof PricingError)) throw error;
      problems.value = 'invalid';
    }
  }

  let expiresOn = '';
  if (text(input.expiresOn) === '') problems.expiresOn = 'required';
  else {
    try {
      expiresOn = parseDay(text(input.expiresOn));
      if (expiresOn < today) problems.expiresOn = 'in_the_past';
      else if (expiresOn > addDays(today, VOUCHER_MAX_DAYS)) problems.expiresOn = 'too_far';
    } catch {
      problems.expiresOn = 'invalid';
    }
  }

  return { name, count, value, expiresOn };
}

/** A batch as its reports need it: the counters kept by each redemption, never counted from the codes. */
export interface VoucherBatch {
  id: number;
  name: string;
  count: number;
  value: Hundredths;
  expiresOn: DayKey;
  createdBy: string;
  createdAt: Date;
  voidedAt: Date | null;
  voidedBy: string | null;
  redeemedCount: number;
  redeemedUnits: Hundredths;
}

export type BatchStatus = 'active' | 'expired' | 'voided';

/** A batch's codes that can no longer be redeemed are voided if it was voided, else expired once its last day has gone. */
export function batchStatus(batch: Pick<VoucherBatch, 'expiresOn' | 'voidedAt'>, today: DayKey): BatchStatus {
  if (batch.voidedAt) return 'voided';
  return batch.expiresOn < today ? 'expired' : 'active';
}

export interface BatchReport {
  status: BatchStatus;
  generated: number;
  redeemed: number;
  unitsCredited: Hundredths;
  /** Codes still redeemable. */
  outstanding: number;
  expired: number;
  voided: number;
}

/** What a batch's page and the list say of it, from its counters alone. */
export function batchReport(batch: VoucherBatch, today: DayKey): BatchReport {
  const status = batchStatus(batch, today);
  const unredeemed = batch.count - batch.redeemedCount;
  return {
    status,
    generated: batch.count,
    redeemed: batch.redeemedCount,
    unitsCredited: batch.redeemedUnits,
    outstanding: status === 'active' ? unredeemed : 0,
    expired: status === 'expired' ? unredeemed : 0,
    voided: status === 'voided' ? unredeemed : 0,
  };
}

/**
 * Why a code found by its hash cannot be redeemed by this person, or null when it can. A used code
 * comes first (it was valid when used: "expired" would mislead its holder); then voided (or replaced), then expired.
 */
export type VoucherRefusal = 'used_by_you' | 'used' | 'voided' | 'expired';

export function voucherRefusal(
  code: { redeemedBy: number | null; replacedAt: Date | null },
  batch: Pick<VoucherBatch, 'expiresOn' | 'voidedAt'>,
  { today, userId }: { today: DayKey; userId: number },
): VoucherRefusal | null {
  if (code.redeemedBy !== null) return code.redeemedBy === userId ? 'used_by_you' : 'used';
  // A replaced code is refused like a voided batch's: its holder was given another.
  if (code.replacedAt !== null) return 'voided';
  const status = batchStatus(batch, today);
  return status === 'active' ? null : status;
}
