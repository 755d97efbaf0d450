import type { Request, Response, Router } from 'express';
import { currentTerms, loadPriceListVersion, type PriceListDraft } from '../../../services/pricing/records.js';
import {
  packField,
  parseWindowBound,
  priceListFormFromBody,
  priceListFormOf,
  readPriceListForm,
  tierField,
  windowBoundText,
  type PriceFormProblem,
  type PriceListForm,
} from '../../../domain/pricing/price-list-form.js';
import { decimalSeparatorOf } from '../../../domain/shared/decimal.js';
import { createPriceListPublishing, PriceListPublishingError } from '../../../services/pricing/price-list-publishing.js';
import { CURRENCIES, MAX_BONUS_TIERS, MAX_PACKS, type Currency } from '../../../domain/pricing/pricing.js';
import { formatHundredths, formatMoney, formatPercent } from '../../../i18n/format.js';
import type { Locale, Translate } from '../../../i18n/index.js';
import { HttpError, notFound } from '../../http-error.js';
import { renderPage } from '../../render.js';
import { topUpPageLocals } from '../../topup-page.js';
import type { AdminDependencies } from './dependencies.js';

const WHOLE_NUMBER = /^[1-9]\d{0,8}$/;

export function registerPriceRoutes(router: Router, { db, clock, config }: AdminDependencies): void {
  const publishing = createPriceListPublishing({ db, clock });
  const timeZone = config.i18n.timeZone;

  async function showEditor(response: Response, form: PriceListForm, options: { problems?: PriceFormProblem[]; notice?: string | null; status?: number } = {}) {
    const { t, locale } = response.locals as { t: Translate; locale: Locale };
    const currency = (CURRENCIES as readonly string[]).includes(form.currency) ? (form.currency as Currency) : CURRENCIES[0];
    const online = await loadPriceListVersion(db.knex);
    await renderPage(response.status(options.status ?? 200), 'admin/prices/edit', {
      title: t('admin.prices.title'),
      adminSection: 'prices',
      form,
      errors: problemMessages(options.problems ?? [], t, locale, currency),
      online,
      // Edits made from an older version (a draft taken up again) cannot be published.
      stale: form.version !== String(online),
      notice: options.notice ?? null,
      currencies: CURRENCIES,
      maxPacks: MAX_PACKS,
      maxTiers: MAX_BONUS_TIERS,
      timeZone,
      packField,
      tierField,
    });
  }

  const formatting = (locale: Locale) => ({ timeZone, decimalSeparator: decimalSeparatorOf(locale) });

  router.get('/admin/prices', async (request, response) => {
    const { t, locale } = response.locals as { t: Translate; locale: Locale };
    if (request.query.draft !== undefined) {
      const draft = await ownDraft(request, request.query.draft);
      return showEditor(response, priceListFormOf(draft.priceList, draft.baseVersion, formatting(locale)));
    }
    const published = wholeNumber(request.query.published);
    const { version, priceList } = await publishing.current();
    await showEditor(response, priceListFormOf(priceList, version, formatting(locale)), {
      notice: published === null ? null : t('admin.prices.published', { version: published }),
    });
  });

  router.post('/admin/prices', async (request, response) => {
    const form = priceListFormFromBody((request.body ?? {}) as Record<string, unknown>);
    // The version is not typed by anyone: a form without it did not come from the editor.
    if (!/^\d{1,9}$/.test(form.version)) throw new HttpError(400, 'badRequest', 'price list form without its version');
    const reading = readPriceListForm(form, timeZone);
    if (!reading.priceList) return showEditor(response, form, { problems: reading.problems, status: 400 });
    const id = await publishing.saveDraft(request.user!, reading.priceList, Number(form.version));
    response.redirect(303, `/admin/prices/drafts/${id}`);
  });

  async function showPreview(response: Response, draft: PriceListDraft, options: { at?: Date; atText?: string; atError?: string | null; conflict?: string | null; status?: number } = {}) {
    const { t, locale } = response.locals as { t: Translate; locale: Locale };
    const at = options.at ?? clock.now();
    const terms = (await currentTerms(db.knex)) ?? null;
    await renderPage(response.status(options.status ?? 200), 'admin/prices/preview', {
      ...topUpPageLocals({ priceList: draft.priceList, terms, now: at, t, locale, preview: true }),
      title: t('admin.prices.preview.title'),
      adminSection: 'prices',
      draft,
      at,
      atText: options.atText ?? windowBoundText(at, timeZone, 'from'),
      atError: options.atError ?? null,
      conflict: options.conflict ?? null,
      timeZone,
    });
  }

  router.get('/admin/prices/drafts/:id', async (request, response) => {
    const t = response.locals.t as Translate;
    const draft = await ownDraft(request, request.params.id);
    const atText = typeof request.query.at === 'string' ? request.query.at.slice(0, 40) : '';
    const at = atText === '' ? null : parseWindowBound(atText, timeZone, 'from');
    if (at === undefined) return showPreview(response, draft, { atText, atError: t('admin.prices.errors.at'), status: 400 });
    await showPreview(response, draft, at ? { at, atText } : {});
  });

  router.post('/admin/prices/drafts/:id/publish', async (request, response) => {
    const t = response.locals.t as Translate;
    const draft = await ownDraft(request, request.params.id);
    try {
      const { version } = await publishing.publish(request.user!, draft.id);
      response.redirect(303, `/admin/prices?published=${version}`);
    } catch (error) {
      if (!(error instanceof PriceListPublishingError && error.code === 'stale_draft')) throw error;
      const { version } = await publishing.current();
      await showPreview(response, draft, { conflict: t('admin.prices.preview.stale', { base: draft.baseVersion, current: version }), status: 409 });
    }
  });

  /** The signed-in admin's draft; anything else (another admin's, expired, not a number) is not found. */
  async function ownDraft(request: Request, id: unknown): Promise<PriceListDraft> {
    const number = wholeNumber(id);
    if (number === null) throw notFound();
    try {
      return await publishing.draft(request.user!, number);
    } catch (error) {
      if (error instanceof PriceListPublishingError && error.code === 'draft_not_found') throw notFound();
      throw error;
    }
  }
}

function wholeNumber(value: unknown): number | null {
  return typeof value === 'string' && WHOLE_NUMBER.test(value) ? Number(value) : null;
}

/** One message per field (the first problem found), in the reader's language, amounts in the form's currency. */
function problemMessages(problems: PriceFormProblem[], t: Translate, locale: Locale, currency: Currency): Record<string, string> {
  const messages: Record<string, string> = {};
  for (const problem of problems) {
    if (messages[problem.field] !== undefined) continue;
    const params: Record<string, string | number> = Object.fromEntries(
      Object.entries(problem.params ?? {}).map(([key, value]): [string, string | number] => {
        if (typeof value !== 'number') return [key, value];
        if (key.endsWith('Cents')) return [key.slice(0, -'Cents'.length), formatMoney(value, currency, locale)];
        if (key.endsWith('BasisPoints')) return [key.slice(0, -'BasisPoints'.length), formatPercent(value, locale)];
        if (key.endsWith('Units')) return [key.slice(0, -'Units'.length), formatHundredths(value, locale)];
        return [key, value];
      }),
    );
    messages[problem.field] = String(t(`admin.prices.errors.${problem.code}`, params));
  }
  return messages;
}
