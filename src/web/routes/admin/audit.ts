import type { Router } from 'express';
import { listAudit, listAuditActions } from '../../../services/audit/records.js';
import { auditChanges, compactValue } from '../../../domain/audit/audit-changes.js';
import { checkDayRange, periodOf } from '../../../domain/time/day-range.js';
import type { Translate } from '../../../i18n/index.js';
import { pageLinks, parsePage } from '../../paging.js';
import { renderPage } from '../../render.js';
import type { AdminDependencies } from './dependencies.js';
import { dayRangeMessages, typedText } from '../../day-range-form.js';

export const AUDIT_PAGE_SIZE = 25;

/** A filter left empty in the form filters nothing. */
const filterValue = (value: unknown) => (value === '' ? undefined : value);

/** How a second factor's kind or a check's method is named: as Account security names them. */
const FACTOR_METHODS: Record<string, string> = { totp: 'secondFactor.security.kinds.totp', passkey: 'secondFactor.security.kinds.passkey', recovery_code: 'secondFactor.check.recoveryLabel' };

/**
 * Second-factor entries record only what happened (no before): shown field by field in the reader's
 * language (kinds and methods named), instead of as JSON; null for every other entry.
 */
function secondFactorDetails(action: string, after: unknown, t: Translate): Array<{ label: string; value: string }> | null {
  if (!action.startsWith('second_factor.') || typeof after !== 'object' || after === null || Array.isArray(after)) return null;
  const fields = after as Record<string, unknown>;
  return (
    Object.entries(fields)
      // A recovery code's check names it twice, as its method and as its factor.
      .filter(([key, value]) => !(key === 'factor' && value === fields.method))
      .map(([key, value]) => {
        const named = (key === 'kind' || key === 'method') && typeof value === 'string' ? FACTOR_METHODS[value] : undefined;
        return { label: t(`admin.audit.secondFactor.fields.${key}`, { defaultValue: key }), value: named ? t(named) : compactValue(value) };
      })
  );
}

export function registerAuditRoutes(router: Router, { db, config }: AdminDependencies): void {
  const timeZone = config.i18n.timeZone;

  router.get('/admin/audit', async (request, response) => {
    const t = response.locals.t as Translate;
    const requestedPage = parsePage(request.query.page);
    const actions = await listAuditActions(db.knex);
    const action = filterValue(request.query.action);
    const { range, errors: rangeErrors } = checkDayRange({ from: filterValue(request.query.from), to: filterValue(request.query.to) }, { from: null, to: null }, null);
    const errors: Record<string, string> = { ...dayRangeMessages(rangeErrors, t, 'audit') };
    // The log is append-only, so an action once offered stays in the list: anything else is not a choice.
    if (action !== undefined && !(typeof action === 'string' && actions.includes(action))) errors.action = t('admin.audit.errors.action');
    const form = { action: typedText(request.query.action), from: typedText(request.query.from), to: typedText(request.query.to) };
    const label = (name: string) => {
      const text: unknown = t(`admin.audit.actions.${name}`, { defaultValue: '', returnObjects: true });
      return typeof text === 'string' ? text : '';
    };
    const view = { title: t('admin.audit.title'), adminSection: 'audit', form, errors, timeZone, actions: actions.map((name) => ({ name, label: label(name) })) };
    if (Object.keys(errors).length > 0) {
      await renderPage(response.status(400), 'admin/audit/index', { ...view, entries: [], total: 0, pager: { pageCount: 0 } });
      return;
    }

    const query = { ...periodOf(range, timeZone), ...(action === undefined ? {} : { action: action as string }) };
    const pageOf = (page: number) => listAudit(db.knex, { ...query, limit: AUDIT_PAGE_SIZE, offset: (page - 1) * AUDIT_PAGE_SIZE });
    let page = requestedPage;
    let { entries, total } = await pageOf(page);
    const pageCount = Math.max(1, Math.ceil(total / AUDIT_PAGE_SIZE));
    if (page > pageCount) {
      // A page past the end (the filters changed) shows the last one.
      page = pageCount;
      ({ entries, total } = await pageOf(page));
    }
    const filters = Object.fromEntries(Object.entries(form).filter(([, value]) => value !== ''));
    await renderPage(response, 'admin/audit/index', {
      ...view,
      total,
      entries: entries.map((entry) => ({ ...entry, label: label(entry.action), details: secondFactorDetails(entry.action, entry.after, t), changes: auditChanges(entry.before, entry.after) })),
      pager: pageLinks('/admin/audit', filters, page, pageCount),
    });
  });
}
