import { findApiKey } from '../../db/print-api/api-key-repository.js';
import type { Database } from '../../db/database.js';
import { countPrintJobs, listPrintJobs, type PrintJob, type PrintJobPosition, type PrintJobSide } from '../../db/print-api/print-job-repository.js';
import type { ApiKeySummary } from '../../domain/print-api/api-keys.js';

export type { PrintJob, PrintJobPosition, PrintJobSide, PrintJobStatus } from '../../db/print-api/print-job-repository.js';

export const PRINT_JOBS_PAGE_SIZE = 50;

export interface PrintServerJobsPage {
  key: ApiKeySummary;
  jobs: PrintJob[];
  /** Every job of the key, debits and refusals. */
  total: number;
  /** Counted from the jobs newer than this page, so it stays right while new jobs arrive between pages. */
  page: number;
  pageCount: number;
  /** Where the pages before and after this one start, or null at either end of the list. */
  newer: PrintJobPosition | null;
  older: PrintJobPosition | null;
}

/**
 * One page of a print server's jobs, newest first: the first page, or the page next to `from` on its
 * side (keyset paging). A position past either end of the list (an old or made-up link) shows the
 * first page. Undefined when there is no such key.
 */
export async function printServerJobs(db: Database, apiKeyId: number, from?: { side: PrintJobSide; position: PrintJobPosition }): Promise<PrintServerJobsPage | undefined> {
  const key = await findApiKey(db.knex, apiKeyId);
  if (!key) return undefined;
  let jobs = await listPrintJobs(db.knex, apiKeyId, PRINT_JOBS_PAGE_SIZE, from);
  if (jobs.length === 0 && from) jobs = await listPrintJobs(db.knex, apiKeyId, PRINT_JOBS_PAGE_SIZE);
  const { total, newer } = await countPrintJobs(db.knex, apiKeyId, jobs[0] ?? null);
  const after = total - newer - jobs.length;
  const page = Math.ceil(newer / PRINT_JOBS_PAGE_SIZE) + 1;
  return {
    key,
    jobs,
    total,
    page,
    pageCount: page + Math.ceil(after / PRINT_JOBS_PAGE_SIZE),
    newer: newer > 0 ? jobs[0]! : null,
    older: after > 0 ? jobs[jobs.length - 1]! : null,
  };
}
