import { Router } from 'express';
import { z } from 'zod';
import { listAccountHistory } from '../../services/ledger/records.js';
import type { Database } from '../../db/database.js';
import type { PrintApi } from '../../services/print-api/print-api.js';
import type { Translate } from '../../i18n/index.js';
import { API_BASE, DEFAULT_PAGE_SIZE, MAX_ENTRY_ID, MAX_PAGE_SIZE } from './openapi.js';
import type { transactionPageSchema} from './representations.js';
import { unitsOf } from './representations.js';
import { invalidRequest } from './problem.js';

const wholeNumber = (max: number) => z.string().regex(/^[1-9]\d{0,11}$/).transform(Number).pipe(z.number().int().min(1).max(max));


const pageQuery = z
  .object({ limit: wholeNumber(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE), before: wholeNumber(MAX_ENTRY_ID).optional() })
  .strict();

/** GET …/transactions: keyset paging on the account's entries, so a page never repeats or skips one when new entries arrive. */
export function transactionRoutes({ db, printApi }: { db: Database; printApi: PrintApi }): Router {
  const router = Router();
  router.get(`${API_BASE}/accounts/:username/transactions`, async (request, response) => {
    const query = pageQuery.safeParse(request.query);
    if (!query.success) throw invalidRequest(query.error, response.locals.t as Translate);
    const holder = await printApi.account(request.params.username);
    const { limit, before } = query.data;
    const rows = await listAccountHistory(db.knex, holder.accountId, { limit: limit + 1, beforeEntryId: before });
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    const page: z.infer<typeof transactionPageSchema> = {
      items: items.map((row) => ({
        id: row.transactionId,
        kind: row.kind,
        category: row.category,
        units: unitsOf(row.amount),
        balanceAfter: unitsOf(row.balanceAfter),
        reference: row.reference,
        pages: row.pages,
        createdAt: row.createdAt.toISOString(),
      })),
      next: rows.length > limit && last ? `${API_BASE}/accounts/${encodeURIComponent(holder.username)}/transactions?limit=${limit}&before=${last.entryId}` : null,
    };
    response.json(page);
  });
  return router;
}
