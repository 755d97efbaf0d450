import type { Knex } from 'knex';
import type { BonusTier, Currency, Pack, PriceList } from '../../domain/pricing/pricing.js';
import { optionalDate, type Queryable, toDate, toSafeInteger } from '../database.js';
const isoOrNull = (date: Date | null) => date?.toISOString() ?? null;

/** The price list as it stands: settings, packs in display order, bonus tiers. */
export async function loadPriceList(db: Queryable): Promise<PriceList> {
  // One query after the other: inside a transaction they share one connection.
  const settings = await db('price_settings').where('id', 1).first();
  const packs = await db('packs').orderBy(['position', 'id']);
  const tiers = await db('bonus_tiers').orderBy(['min_cents', 'id']);
  return {
    settings: {
      currency: settings.currency as Currency,
      vatRateBasisPoints: toSafeInteger(settings.vat_rate_basis_points),
      unitPriceCents: toSafeInteger(settings.unit_price_cents),
    },
    packs: packs.map(
      (row: Record<string, unknown>): Pack => ({
        id: String(row.id),
        priceCents: toSafeInteger(row.price_cents),
        units: toSafeInteger(row.units),
        bonusUnits: toSafeInteger(row.bonus_units),
        enabled: Boolean(row.enabled),
        validFrom: optionalDate(row.valid_from),
        validUntil: optionalDate(row.valid_until),
      }),
    ),
    freeAmount: settings.free_amount_enabled
      ? {
          minCents: toSafeInteger(settings.free_amount_min_cents),
          maxCents: toSafeInteger(settings.free_amount_max_cents),
          stepCents: toSafeInteger(settings.free_amount_step_cents),
        }
      : null,
    bonusTiers: tiers.map(
      (row: Record<string, unknown>): BonusTier => ({
        minCents: toSafeInteger(row.min_cents),
        bonusBasisPoints: toSafeInteger(row.bonus_basis_points),
        validFrom: optionalDate(row.valid_from),
        validUntil: optionalDate(row.valid_until),
      }),
    ),
  };
}

/** How many times the price list was published; read it before the list it guards. */
export async function loadPriceListVersion(db: Queryable): Promise<number> {
  const row = await db('price_settings').where('id', 1).first('version');
  return toSafeInteger(row.version);
}

/**
 * Replaces the whole price list (validated by the caller) and bumps its version; with
 * `expectedVersion`, only if the version is still that one (false, and nothing changed, otherwise).
 * Orders keep their own snapshot.
 */
export async function replacePriceList(trx: Knex.Transaction, priceList: PriceList, expectedVersion?: number): Promise<boolean> {
  const { settings, freeAmount } = priceList;
  const settingsRow = trx('price_settings').where('id', 1);
  if (expectedVersion !== undefined) void settingsRow.where('version', expectedVersion);
  const updated = await settingsRow.update({
    version: trx.raw('?? + 1', ['version']),
    currency: settings.currency,
    vat_rate_basis_points: settings.vatRateBasisPoints,
    unit_price_cents: settings.unitPriceCents,
    free_amount_enabled: freeAmount !== null,
    ...(freeAmount
      ? { free_amount_min_cents: freeAmount.minCents, free_amount_max_cents: freeAmount.maxCents, free_amount_step_cents: freeAmount.stepCents }
      : {}),
  });
  if (updated === 0) return false;
  await trx('packs').del();
  if (priceList.packs.length > 0) {
    await trx('packs').insert(
      priceList.packs.map((pack, position) => ({
        id: pack.id,
        position,
        price_cents: pack.priceCents,
        units: pack.units,
        bonus_units: pack.bonusUnits,
        enabled: pack.enabled,
        valid_from: isoOrNull(pack.validFrom),
        valid_until: isoOrNull(pack.validUntil),
      })),
    );
  }
  await trx('bonus_tiers').del();
  if (priceList.bonusTiers.length > 0) {
    await trx('bonus_tiers').insert(
      priceList.bonusTiers.map((tier) => ({
        min_cents: tier.minCents,
        bonus_basis_points: tier.bonusBasisPoints,
        valid_from: isoOrNull(tier.validFrom),
        valid_until: isoOrNull(tier.validUntil),
      })),
    );
  }
  return true;
}

export interface PriceListDraft {
  id: number;
  authorUserId: number;
  /** The version the admin started from. */
  baseVersion: number;
  priceList: PriceList;
  createdAt: Date;
  /** The version it became, once published. */
  publishedVersion: number | null;
}

/** A price list as JSON, dates as ISO strings; what drafts store and the audit log shows. */
const toJson = (priceList: PriceList) => JSON.stringify(priceList);

function fromJson(text: string): PriceList {
  const parsed = JSON.parse(text) as PriceList;
  const dated = <T extends { validFrom: Date | null; validUntil: Date | null }>(item: T): T => ({
    ...item,
    validFrom: optionalDate(item.validFrom),
    validUntil: optionalDate(item.validUntil),
  });
  return { ...parsed, packs: parsed.packs.map(dated), bonusTiers: parsed.bonusTiers.map(dated) };
}

export async function insertPriceListDraft(db: Queryable, draft: { authorUserId: number; baseVersion: number; priceList: PriceList }, now: Date): Promise<number> {
  const [row] = await db('price_list_drafts')
    .insert({ author_user_id: draft.authorUserId, base_version: draft.baseVersion, price_list_json: toJson(draft.priceList), created_at: now.toISOString() })
    .returning('id');
  return toSafeInteger((row as { id: unknown }).id);
}

/** An admin's own draft; another admin's is not found. */
export async function findPriceListDraft(db: Queryable, id: number, authorUserId: number): Promise<PriceListDraft | undefined> {
  const row = await db('price_list_drafts').where({ id, author_user_id: authorUserId }).first();
  return row ? toDraft(row) : undefined;
}

/** The same, locking the draft's row: publishing it twice at once queues the second behind the first. */
export async function lockPriceListDraft(trx: Knex.Transaction, id: number, authorUserId: number): Promise<PriceListDraft | undefined> {
  const row = await trx('price_list_drafts').where({ id, author_user_id: authorUserId }).forUpdate().first();
  return row ? toDraft(row) : undefined;
}

function toDraft(row: Record<string, unknown>): PriceListDraft {
  return {
    id: toSafeInteger(row.id),
    authorUserId: toSafeInteger(row.author_user_id),
    baseVersion: toSafeInteger(row.base_version),
    priceList: fromJson(String(row.price_list_json)),
    createdAt: toDate(row.created_at),
    publishedVersion: row.published_version == null ? null : toSafeInteger(row.published_version),
  };
}

export async function markPriceListDraftPublished(trx: Knex.Transaction, id: number, version: number): Promise<void> {
  await trx('price_list_drafts').where('id', id).update({ published_version: version });
}

/** Drafts are working copies: those older than `before` are dropped. */
export async function deletePriceListDraftsBefore(db: Queryable, before: Date): Promise<void> {
  await db('price_list_drafts').where('created_at', '<', before.toISOString()).del();
}
