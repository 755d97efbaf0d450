import { recordAudit } from '../../db/audit/audit-repository.js';
import type { Database } from '../../db/database.js';
import {
  deletePriceListDraftsBefore,
  findPriceListDraft,
  insertPriceListDraft,
  loadPriceList,
  loadPriceListVersion,
  lockPriceListDraft,
  markPriceListDraftPublished,
  replacePriceList,
  type PriceListDraft,
} from '../../db/pricing/price-list-repository.js';
import type { AuditRecord } from '../../domain/audit/audit.js';
import type { Clock } from '../../domain/time/clock.js';
import { DomainError } from '../../domain/shared/errors.js';
import { validatePriceList, type PriceList } from '../../domain/pricing/pricing.js';

export type PriceListPublishingErrorCode = 'draft_not_found' | 'stale_draft';
export class PriceListPublishingError extends DomainError<PriceListPublishingErrorCode> {}

type Actor = AuditRecord['actor'];

/** Drafts are for previewing, not for keeping: an admin has this long to publish one. */
const DRAFT_LIFETIME_MS = 24 * 3600_000;

/**
 * Changing prices in two steps: a draft (the whole price list, checked, kept on the server) that the
 * admin previews, then the publication of exactly that draft — refused if another admin published
 * since the draft's base version.
 */
export function createPriceListPublishing({ db, clock }: { db: Database; clock: Clock }) {
  /** The published price list and its version (read first: a publication in between makes the pair stale, never newer than the list). */
  async function current(): Promise<{ version: number; priceList: PriceList }> {
    const version = await loadPriceListVersion(db.knex);
    return { version, priceList: await loadPriceList(db.knex) };
  }

  async function saveDraft(author: Actor, priceList: PriceList, baseVersion: number): Promise<number> {
    validatePriceList(priceList);
    const now = clock.now();
    await deletePriceListDraftsBefore(db.knex, new Date(now.getTime() - DRAFT_LIFETIME_MS));
    return insertPriceListDraft(db.knex, { authorUserId: author.id, baseVersion, priceList }, now);
  }

  async function draft(author: Actor, id: number): Promise<PriceListDraft> {
    const found = await findPriceListDraft(db.knex, id, author.id);
    if (!found) throw new PriceListPublishingError('draft_not_found', `no draft ${id}`);
    return found;
  }

  /** Publishes the draft and audits it, together; publishing it again only answers the version it became. */
  async function publish(author: Actor, id: number): Promise<{ version: number }> {
    const now = clock.now();
    return db.transaction(async (trx) => {
      const found = await lockPriceListDraft(trx, id, author.id);
      if (!found) throw new PriceListPublishingError('draft_not_found', `no draft ${id}`);
      if (found.publishedVersion !== null) return { version: found.publishedVersion };
      const before = await loadPriceList(trx);
      if (!(await replacePriceList(trx, found.priceList, found.baseVersion))) {
        throw new PriceListPublishingError('stale_draft', `the price list moved on from version ${found.baseVersion}`);
      }
      const version = found.baseVersion + 1;
      await markPriceListDraftPublished(trx, found.id, version);
      const after = await loadPriceList(trx);
      await recordAudit(trx, { actor: author, action: 'prices.publish', target: `version ${version}`, before, after }, now);
      return { version };
    });
  }

  return { current, saveDraft, draft, publish };
}

export type PriceListPublishing = ReturnType<typeof createPriceListPublishing>;
