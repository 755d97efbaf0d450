import type { PrintSystem } from '../../services/credit-transfers/print-system.js';
import { Router, type Response } from 'express';
import type { HistoryRow } from '../../services/ledger/records.js';
import { checkHistoryFilter, HISTORY_CATEGORIES, type HistoryCategory, type HistoryFilter, type HistoryFilterErrors } from '../../domain/ledger/account-history.js';
import type { Ledger } from '../../services/ledger/accounts.js';
import { LedgerError } from '../../domain/ledger/ledger.js';
import type { OpenDayRange } from '../../domain/time/day-range.js';
import type { UsageSummary } from '../../domain/ledger/usage-summary.js';
import { formatDay, formatShare } from '../../i18n/format.js';
import type { Locale, Translate } from '../../i18n/index.js';
import { shareChartSvg } from '../charts/share-chart.js';
import { requireUser } from '../middleware/authentication.js';
import { pageLinks, parsePage } from '../paging.js';
import { renderPage } from '../render.js';
import type { PresentedTheme } from '../../services/branding/theme-service.js';
import { typedText } from '../day-range-form.js';

/** The translation key naming an operation: usage is named by its category (print, copy…). */
export function operationKey(row: Pick<HistoryRow, 'kind' | 'category'>): string {
  return row.kind === 'usage' && row.category ? `operation.usage_${row.category}` : `operation.${row.kind}`;
}

/** What the history says besides the operation: a cancellation names the category of the job it cancels; a job, its pages and reference. */
function rowDetails(row: HistoryRow, t: Translate): string[] {
  return [
    row.kind !== 'usage' && row.category ? t(`operation.usage_${row.category}`) : null,
    row.pages === null ? null : t('account.pages', { count: row.pages }),
    row.reference === null ? null : t('account.reference', { reference: row.reference }),
    row.description,
  ].filter((detail): detail is string => Boolean(detail));
}

const categoryKey = (category: HistoryCategory) => (category === 'top_up' ? 'account.filters.topUps' : `operation.usage_${category}`);

const FILTER_MESSAGES = {
  invalid_day: 'account.filters.errors.invalidDay',
  to_before_from: 'account.filters.errors.toBeforeFrom',
  unknown_category: 'account.filters.errors.category',
} as const;

const filterMessages = (errors: HistoryFilterErrors, t: Translate): Record<string, string> =>
  Object.fromEntries(Object.entries(errors).map(([field, problem]) => [field, t(FILTER_MESSAGES[problem as keyof typeof FILTER_MESSAGES])]));

/** The period in words. */
function periodText(range: OpenDayRange, t: Translate, locale: Locale): string {
  const day = (key: string) => formatDay(key, locale);
  if (range.from && range.to) return t('account.usage.period.between', { from: day(range.from), to: day(range.to) });
  if (range.from) return t('account.usage.period.since', { from: day(range.from) });
  if (range.to) return t('account.usage.period.until', { to: day(range.to) });
  return t('account.usage.period.all');
}

/**
 * The summary as the page shows it: a table (the figures) and a chart (the shares) drawn in the
 * theme's colour; a filter on one category shows that category alone. A share that rounds to 0 %
 * while something was used reads "less than 1 %".
 */
function presentSummary(summary: UsageSummary, filter: HistoryFilter, period: string, response: Response) {
  const t = response.locals.t as Translate;
  const locale = response.locals.locale as Locale;
  const formatUnits = response.locals.formatUnits as (amount: number) => string;
  const shown = summary.categories.filter((usage) => filter.category === undefined || filter.category === usage.category);
  const categories = shown.map((usage) => ({
    ...usage,
    label: t(`operation.usage_${usage.category}`),
    share: usage.percent === 0 && usage.units > 0 ? t('account.usage.belowOnePercent', { percent: formatShare(0.01, locale) }) : formatShare(usage.percent / 100, locale),
  }));
  const chart =
    summary.total > 0
      ? shareChartSvg({
          id: 'usage-chart',
          title: t('account.usage.chartTitle'),
          description: t('account.usage.chartDescription', {
            period,
            total: formatUnits(summary.total),
            shares: categories.map((usage) => `${usage.label} ${usage.share}`).join(', '),
          }),
          parts: categories.map((usage) => ({ label: usage.label, percent: usage.percent, valueText: usage.share })),
          barColour: (response.locals.theme as PresentedTheme).palette.primary,
        })
      : null;
  return { total: summary.total, categories, chart, period };
}

/**
 * The person's balance in the print system credits go to, as the summary shows it: the one printing
 * draws on. When the print system does not answer, its last value with its time, or that there is none.
 */
async function printBalanceView(printSystem: PrintSystem | null, username: string, response: Response) {
  if (!printSystem?.balances.readsBalances) return null;
  const t = response.locals.t as Translate;
  const formatDateTime = response.locals.formatDateTime as (date: Date) => string;
  const context = printSystem.balances.kind;
  const reading = await printSystem.balances.balanceOf(username);
  return {
    label: t('account.printBalance.label', { context }),
    balance: reading?.balance ?? null,
    note: !reading ? t('account.printBalance.unavailable', { context }) : reading.current ? null : t('account.printBalance.stale', { context, date: formatDateTime(reading.readAt) }),
  };
}

export function accountRoutes({ ledger, timeZone, printSystem }: { ledger: Ledger; timeZone: string; printSystem: PrintSystem | null }): Router {
  const router = Router();

  router.get('/', (request, response) => response.redirect(303, request.user ? '/account' : '/login'));

  router.get('/account', requireUser, async (request, response) => {
    const t = response.locals.t as Translate;
    const user = request.user!;
    // Read with the person by loadSessionUser; every person has one from their creation.
    const account = request.account;
    if (!account) throw new LedgerError('account_not_found', `user ${user.id} has no account`);
    const requestedPage = parsePage(request.query.page);
    const { category, from, to } = request.query;
    const { filter, range, errors } = checkHistoryFilter({ category, from, to }, timeZone);
    const form = { category: typedText(category), from: typedText(from), to: typedText(to) };
    const view = {
      title: t('account.title'),
      form,
      errors: filterMessages(errors, t),
      timeZone,
      categories: HISTORY_CATEGORIES.map((value) => ({ value, label: t(categoryKey(value)) })),
      filtered: Object.values(form).some((value) => value !== ''),
    };
    const printBalance = printBalanceView(printSystem, user.username, response);
    if (Object.keys(errors).length > 0) {
      await renderPage(response.status(400), 'pages/account', { ...view, account, printBalance: await printBalance, usage: null, rows: [], pager: { pageCount: 0 } });
      return;
    }

    const page = await ledger.historyPage(account.id, requestedPage, filter);
    const filters = Object.fromEntries(Object.entries(form).filter(([, value]) => value !== ''));
    await renderPage(response, 'pages/account', {
      ...view,
      account,
      printBalance: await printBalance,
      usage: presentSummary(page.usage, filter, periodText(range, t, response.locals.locale as Locale), response),
      pager: pageLinks('/account', filters, page.page, page.pageCount),
      rows: page.history.map((row) => ({ ...row, label: t(operationKey(row)), details: rowDetails(row, t) })),
    });
  });

  return router;
}
