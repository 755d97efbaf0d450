import { recordAudit } from '../../db/audit/audit-repository.js';
import type { Database } from '../../db/database.js';
import {
  findVoucherBatch,
  insertBatchCodes,
  insertVoucherBatch,
  listBatchRedemptions,
  listVoucherBatches,
  lockVoucherBatch,
  markBatchVoided,
  type RedemptionRow,
} from '../../db/vouchers/voucher-repository.js';
import type { User } from '../../domain/people/users.js';
import { DomainError } from '../../domain/shared/errors.js';
import type { Clock } from '../../domain/time/clock.js';
import { dayOf } from '../../domain/time/calendar.js';
import { batchReport, checkBatchRequest, type BatchReport, type VoucherBatch, type VoucherBatchRequest } from '../../domain/vouchers/voucher-batches.js';
import { generateVoucherCode, voucherCodeHash, type CanonicalCode } from '../../domain/vouchers/voucher-codes.js';

/** An admin signed in: a batch names who made or voided it. */
type Actor = Pick<User, 'id' | 'username'>;

export class VoucherBatchNotFound extends DomainError<'batch_not_found'> {}

/** Batches and redemptions per page of the admin's lists. */
export const BATCHES_PER_PAGE = 50;
export const REDEMPTIONS_PER_PAGE = 50;

export interface BatchWithReport extends VoucherBatch {
  report: BatchReport;
}

/** Generating, voiding and reporting on batches of top-up codes: the admin's side. */
export function createVoucherBatches({ db, clock, timeZone }: { db: Database; clock: Clock; timeZone: string }) {
  const today = () => dayOf(clock.now(), timeZone);
  const withReport = (batch: VoucherBatch, day: string): BatchWithReport => ({ ...batch, report: batchReport(batch, day) });

  return {
    /** The form as typed, checked against today's date in the portal's time zone (VoucherBatchError lists what is wrong). */
    check: (input: Record<string, unknown>): VoucherBatchRequest => checkBatchRequest(input, today()),

    /**
     * A new batch: its codes drawn, their hashes stored in one transaction with the batch and its
     * audit entry (never the codes). The codes are returned once, for the caller to hand over: they
     * exist nowhere else afterwards.
     */
    async generate(request: VoucherBatchRequest, actor: Actor): Promise<{ batchId: number; codes: CanonicalCode[] }> {
      const codes = new Set<CanonicalCode>();
      // Two equal codes among 10,000 draws of 80 bits: about 1 chance in 2^54; drawn again rather than stored twice.
      while (codes.size < request.count) codes.add(generateVoucherCode());
      const list = [...codes];
      const now = clock.now();
      const batchId = await db.transaction(async (trx) => {
        const id = await insertVoucherBatch(trx, { name: request.name, count: list.length, value: request.value, expiresOn: request.expiresOn, createdBy: actor.id }, now);
        await insertBatchCodes(trx, id, list.map(voucherCodeHash));
        await recordAudit(
          trx,
          { actor, action: 'voucher.generate', target: request.name, before: null, after: { batchId: id, name: request.name, count: request.count, value: request.value, expiresOn: request.expiresOn, format: request.format } },
          now,
        );
        return id;
      });
      return { batchId, codes: list };
    },

    /** Refuses the batch's unredeemed codes from now on; a batch already voided is answered as such (false). */
    async void(batchId: number, actor: Actor): Promise<boolean> {
      const now = clock.now();
      return db.transaction(async (trx) => {
        const batch = await lockVoucherBatch(trx, batchId);
        if (!batch) throw new VoucherBatchNotFound('batch_not_found', `no voucher batch ${batchId}`);
        if (!(await markBatchVoided(trx, batchId, { by: actor.id }, now))) return false;
        await recordAudit(
          trx,
          { actor, action: 'voucher.void', target: batch.name, before: { batchId, voided: false, redeemed: batch.redeemedCount }, after: { batchId, voided: true, unredeemed: batch.count - batch.redeemedCount } },
          now,
        );
        return true;
      });
    },

    async list(page: number): Promise<{ batches: BatchWithReport[]; total: number; pageCount: number }> {
      const day = today();
      const { batches, total } = await listVoucherBatches(db.knex, { limit: BATCHES_PER_PAGE, offset: (page - 1) * BATCHES_PER_PAGE });
      return { batches: batches.map((batch) => withReport(batch, day)), total, pageCount: Math.max(1, Math.ceil(total / BATCHES_PER_PAGE)) };
    },

    /** A batch with its report and a page of its redemptions, newest first; its count of pages comes from the batch's counter. */
    async batchPage(batchId: number, page: number): Promise<{ batch: BatchWithReport; redemptions: RedemptionRow[]; pageCount: number } | undefined> {
      const batch = await findVoucherBatch(db.knex, batchId);
      if (!batch) return undefined;
      const redemptions = await listBatchRedemptions(db.knex, batchId, { limit: REDEMPTIONS_PER_PAGE, offset: (page - 1) * REDEMPTIONS_PER_PAGE });
      return { batch: withReport(batch, today()), redemptions, pageCount: Math.max(1, Math.ceil(batch.redeemedCount / REDEMPTIONS_PER_PAGE)) };
    },
  };
}

export type VoucherBatches = ReturnType<typeof createVoucherBatches>;
