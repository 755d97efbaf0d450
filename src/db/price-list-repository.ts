import type { Knex } from 'knex';
import type { BonusTier, Currency, Pack, PriceList } from '../domain/pricing.js';
import { toDate, toSafeInteger, type Queryable } from './database.js';

const optionalDate = (value: unknown) => (value == null ? null : toDate(value));
const isoOrNull = (date: Date | null) => date?.toISOString() ?? null;

/** The price list as it stands: settings, packs in display order, bonus tiers. */
export async function loadPriceList(db: Queryable): Promise<PriceList> {
  const [settings, packs, tiers] = await Promise.all([
    db('price_settings').where('id', 1).first(),
    db('packs').orderBy(['position', 'id']),
    db('bonus_tiers').orderBy('min_cents'),
  ]);
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

/** Replaces the whole price list (validated by the caller). Orders keep their own snapshot. */
export async function replacePriceList(trx: Knex.Transaction, priceList: PriceList): Promise<void> {
  const { settings, freeAmount } = priceList;
  await trx('price_settings')
    .where('id', 1)
    .update({
      currency: settings.currency,
      vat_rate_basis_points: settings.vatRateBasisPoints,
      unit_price_cents: settings.unitPriceCents,
      free_amount_enabled: freeAmount !== null,
      ...(freeAmount
        ? { free_amount_min_cents: freeAmount.minCents, free_amount_max_cents: freeAmount.maxCents, free_amount_step_cents: freeAmount.stepCents }
        : {}),
    });
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
}
