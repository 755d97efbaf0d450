import type { PrintSystem } from '../../services/credit-transfers/print-system.js';
import { Router, type Request, type Response } from 'express';
import type { HistoryRow, RefusedJobRow } from '../../services/ledger/records.js';
import { checkHistoryForm, HISTORY_CATEGORIES, HISTORY_PERIODS, type HistoryCategory, type HistoryFilter, type HistoryFilterErrors } from '../../domain/ledger/account-history.js';
import { REFUSED_JOBS_SHOWN, type Ledger } from '../../services/ledger/accounts.js';
import { LedgerError } from '../../domain/ledger/ledger.js';
import { dayOf } from '../../domain/time/calendar.js';
import type { Clock } from '../../domain/time/clock.js';
import { periodOf, type OpenDayRange } from '../../domain/time/day-range.js';
import { namedRange } from '../../domain/time/named-periods.js';
import type { UsageSummary } from '../../domain/ledger/usage-summary.js';
import { formatDay, formatShare } from '../../i18n/format.js';
import type { Locale, Translate } from '../../i18n/index.js';
import { shareChartSvg } from '../charts/share-chart.js';
import { requireUser } from '../middleware/authentication.js';
import { pageLinks, parsePage } from '../paging.js';
import { renderPage } from '../render.js';
import { describeTransaction } from '../view-helpers.js';
import type { PresentedTheme } from '../../services/branding/theme-service.js';
import { typedText } from '../day-range-form.js';
import { MY_ACCOUNT_PATH } from './my-account.js';

/** The translation key naming an operation: usage is named by its category (print, copy…). */
export function operationKey(row: Pick<HistoryRow, 'kind' | 'category'>): string {
  return row.kind === 'usage' && row.category ? `operation.usage_${row.category}` : `operation.${row.kind}`;
}

/** A job as its print server described it, in words: printer, pages, colour or black and white, one or two sides; each only when the server said. */
function printJobWords(job: Pick<HistoryRow, 'printer' | 'pages' | 'colour' | 'duplex'>, t: Translate): Array<string | null> {
  return [
    job.printer,
    job.pages === null ? null : t('account.pages', { count: job.pages }),
    job.colour === null ? null : t(job.colour ? 'account.job.colour' : 'account.job.mono'),
    job.duplex === null ? null : t(job.duplex ? 'account.job.duplex' : 'account.job.simplex'),
  ];
}

/**
 * What a line says of a job in words: a cancellation names the category of the job it cancels; a job,
 * what its print server said of it. The account page says no more of a job (the print server's
 * reference is the history's).
 */
function jobDetails(row: HistoryRow, t: Translate): Array<string | null> {
  return [row.kind !== 'usage' && row.category ? t(`operation.usage_${row.category}`) : null, ...printJobWords(row, t)];
}

const present = (details: Array<string | null>): string[] => details.filter((detail): detail is string => Boolean(detail));

/** What the full history says besides the operation: the job in words, then the print server's reference and the description. */
function rowDetails(row: HistoryRow, t: Translate): string[] {
  return present([...jobDetails(row, t), row.reference === null ? null : t('account.reference', { reference: row.reference }), describeTransaction(t, row.description)]);
}

/** A job a print server reported, in words: its category, then what the server said of it, e.g. "Impression · b112 · 3 pages · couleur". */
export const printJobInWords = (job: Pick<RefusedJobRow, 'category' | 'printer' | 'pages' | 'colour' | 'duplex'>, t: Translate): string[] =>
  present([t(`operation.usage_${job.category}`), ...printJobWords(job, t)]);

/** A refused job's line: why, then the job in words; what it would have cost is its own column. */
const refusedJobLine = (job: RefusedJobRow, t: Translate) => ({ ...job, label: t(`account.refused.reasons.${job.reason}`), details: printJobInWords(job, t) });

const categoryKey = (category: HistoryCategory) => (category === 'top_up' ? 'account.filters.topUps' : `operation.usage_${category}`);

const FILTER_MESSAGES = {
  unknown_period: 'account.filters.errors.period',
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
function presentSummary(summary: UsageSummary, filter: HistoryFilter, period: string, emptyText: string, response: Response) {
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
  return { total: summary.total, categories, chart, period, emptyText };
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

/** The history's own page; the account page's links with a filter, made before it had one, lead here. */
export const HISTORY_PATH = '/account/history';

/** The parameters of the history's filter and pager: a link to the account page with one is an old link to the history. */
const HISTORY_PARAMETERS = ['period', 'category', 'from', 'to', 'page'];

export function accountRoutes({ ledger, clock, timeZone, printSystem }: { ledger: Ledger; clock: Clock; timeZone: string; printSystem: PrintSystem | null }): Router {
  const router = Router();

  /** The person's account, read with them by loadSessionUser: every person has one from their creation. */
  const accountOf = (request: Request) => {
    if (!request.account) throw new LedgerError('account_not_found', `user ${request.user!.id} has no account`);
    return request.account;
  };

  router.get('/', (request, response) => response.redirect(303, request.user ? '/account' : '/login'));

  router.get('/account', (request, response, next) => {
    if (HISTORY_PARAMETERS.some((name) => name in request.query)) {
      // A bookmark of the filtered account page keeps working, for good: the filter lives on the history page.
      response.redirect(301, `${HISTORY_PATH}${request.originalUrl.slice(request.originalUrl.indexOf('?'))}`);
      return;
    }
    next();
  });

  /** The balance and how to add to it first, then the last operations and the last 30 days' usage. */
  router.get('/account', requireUser, async (request, response) => {
    const t = response.locals.t as Translate;
    const account = accountOf(request);
    const printBalance = printBalanceView(printSystem, request.user!.username, response);
    const period = periodOf(namedRange('last_30_days', dayOf(clock.now(), timeZone)), timeZone);
    const { recent, usage } = await ledger.accountOverview(account.id, period);
    await renderPage(response, 'pages/account', {
      title: t('account.title'),
      account,
      printBalance: await printBalance,
      usage: presentSummary(usage, {}, t('account.periods.last_30_days'), t('account.usage.noneRecent'), response),
      recent: recent.map((row) => ({ ...row, label: t(operationKey(row)), details: present([...jobDetails(row, t), describeTransaction(t, row.description)]) })),
      historyPath: HISTORY_PATH,
      settingsPath: MY_ACCOUNT_PATH,
    });
  });

  router.get(HISTORY_PATH, requireUser, async (request, response) => {
    const t = response.locals.t as Translate;
    const account = accountOf(request);
    const requestedPage = parsePage(request.query.page);
    const { period, category, from, to } = request.query;
    const checked = checkHistoryForm({ period, category, from, to }, dayOf(clock.now(), timeZone), timeZone);
    const form = { period: checked.period, category: typedText(category), from: typedText(from), to: typedText(to) };
    const filtered = checked.period !== 'all' || form.category !== '';
    const view = {
      title: t('account.historyPage.title'),
      form,
      errors: filterMessages(checked.errors, t),
      periods: HISTORY_PERIODS.map((value) => ({ value, label: t(`account.periods.${value}`) })),
      categories: HISTORY_CATEGORIES.map((value) => ({ value, label: t(categoryKey(value)) })),
      filtered,
      historyPath: HISTORY_PATH,
    };
    if (Object.keys(checked.errors).length > 0) {
      await renderPage(response.status(400), 'pages/account-history', { ...view, usage: null, rows: [], refused: [], pager: { pageCount: 0 } });
      return;
    }

    const [page, refused] = await Promise.all([ledger.historyPage(account.id, requestedPage, checked.filter), ledger.refusedJobs(account.id, checked.filter)]);
    // The pages keep the filter as chosen: the days typed only for a custom period.
    const kept = { period: checked.period === 'all' ? '' : checked.period, category: form.category, ...(checked.period === 'custom' ? { from: form.from, to: form.to } : {}) };
    const emptyText = t(filtered ? 'account.usage.noneFiltered' : 'account.usage.none');
    await renderPage(response, 'pages/account-history', {
      ...view,
      usage: presentSummary(page.usage, checked.filter, periodText(checked.range, t, response.locals.locale as Locale), emptyText, response),
      pager: pageLinks(HISTORY_PATH, Object.fromEntries(Object.entries(kept).filter(([, value]) => value !== '')), page.page, page.pageCount),
      rows: page.history.map((row) => ({ ...row, label: t(operationKey(row)), details: rowDetails(row, t) })),
      refused: refused.map((job) => refusedJobLine(job, t)),
      refusedShown: REFUSED_JOBS_SHOWN,
    });
  });

  return router;
}
