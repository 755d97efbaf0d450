import type { Response, Router } from 'express';
import { countLatePendingTransfers, countTransfersByState } from '../../../services/credit-transfers/records.js';
import { countOrdersIn, countUnmatchedWebhooks, quotePaymentTotals, recentPaymentProblems, topUpTotals, unitsOutstanding } from '../../../services/reports/records.js';
import { addDays, dayOf, firstOfMonth, startOfDay } from '../../../domain/time/calendar.js';
import { dailyTopUps } from '../../../services/reports/daily-top-ups.js';
import { loadPriceList } from '../../../services/pricing/records.js';
import type { DailyTopUps } from '../../../domain/reports/top-ups-per-day.js';
import type { DayRange } from '../../../domain/time/day-range.js';
import { formatMoney } from '../../../i18n/format.js';
import type { Locale } from '../../../i18n/index.js';
import type { PresentedTheme } from '../../../services/branding/theme-service.js';
import { dayLabels } from '../../charts/day-labels.js';
import { sparklineSvg } from '../../charts/sparkline.js';
import { formatOrderNumber } from '../../../domain/checkout/orders.js';
import type { Translate } from '../../../i18n/index.js';
import { renderPage } from '../../render.js';
import type { ProviderHealthChecks } from '../../../services/identity/provider-health.js';
import type { AdminDependencies } from './dependencies.js';

const PROBLEM_WINDOW_MS = 7 * 24 * 3600_000;
/** The dashboard's trend: top-ups paid on each of the last 30 days, today included. */
const TREND_DAYS = 30;
/** A transfer still pending this long after it was queued is stuck: attempts keep failing, or none is made. */
export const LATE_TRANSFER_MINUTES = 15;

/** One currency's last days as a sparkline, its totals in words, and the report of those days. */
function trendOf(series: DailyTopUps, range: DayRange, response: Response) {
  const t = response.locals.t as Translate;
  const locale = response.locals.locale as Locale;
  const money = (cents: number) => formatMoney(cents, series.currency, locale);
  const days = dayLabels(locale);
  const best = series.days.reduce((top, day) => (day.amountCents > top.amountCents ? day : top), series.days[0]!);
  const summary = t('admin.reports.chart.summary', { count: series.count, amount: money(series.amountCents) });
  const svg = sparklineSvg({
    id: `trend-${series.currency.toLowerCase()}`,
    title: t('admin.dashboard.trend.svgTitle', { from: days.full(range.from), to: days.full(range.to), currency: series.currency }),
    description: series.count > 0 ? `${summary} ${t('admin.reports.chart.best', { day: days.full(best.day), amount: money(best.amountCents) })}` : summary,
    values: series.days.map((day) => day.amountCents),
    colour: (response.locals.theme as PresentedTheme).palette.primary,
  });
  const report = new URLSearchParams({ from: range.from, to: range.to, currency: series.currency });
  return { svg, amount: money(series.amountCents), count: series.count, reportHref: `/admin/reports?${report.toString()}` };
}

export function registerDashboardRoutes(router: Router, { db, clock, config, printSystem }: AdminDependencies, providerHealth: ProviderHealthChecks): void {
  router.get('/admin', async (_request, response) => {
    const t = response.locals.t as Translate;
    const now = clock.now();
    const zone = config.i18n.timeZone;
    const today = dayOf(now, zone);
    const tomorrow = startOfDay(addDays(today, 1), zone);
    const since = new Date(now.getTime() - PROBLEM_WINDOW_MS);
    const monthStart = startOfDay(firstOfMonth(today), zone);
    const trendRange = { from: addDays(today, 1 - TREND_DAYS), to: today };
    const [trend, todayTotals, monthTotals, monthQuotes, outstanding, pending, failed, problems, unmatchedWebhooks, transferStates, lateTransfers] = await Promise.all([
      loadPriceList(db.knex).then((priceList) => dailyTopUps(db.knex, trendRange, zone, priceList.settings.currency)),
      topUpTotals(db.knex, startOfDay(today, zone), tomorrow),
      topUpTotals(db.knex, monthStart, tomorrow),
      quotePaymentTotals(db.knex, monthStart, tomorrow),
      unitsOutstanding(db.knex, today),
      countOrdersIn(db.knex, ['awaiting_payment', 'approved', 'capture_pending']),
      countOrdersIn(db.knex, ['failed']),
      recentPaymentProblems(db.knex, since, 20),
      countUnmatchedWebhooks(db.knex, since),
      countTransfersByState(db.knex),
      countLatePendingTransfers(db.knex, new Date(now.getTime() - LATE_TRANSFER_MINUTES * 60_000)),
    ]);
    const stuck = { parked: transferStates.parked ?? 0, unknown: transferStates.unknown ?? 0, late: lateTransfers };
    await renderPage(response, 'admin/dashboard', {
      title: t('admin.dashboard.title'),
      adminSection: 'dashboard',
      trend: trend.map((series) => trendOf(series, trendRange, response)),
      todayTotals,
      monthTotals,
      monthQuotes,
      outstanding,
      pending,
      failed,
      unmatchedWebhooks,
      // From the last tests kept in memory: the dashboard never waits for a provider.
      signIn: providerHealth.summary(),
      // Shown while credits go to a print system, and after, as long as transfers of before are stuck.
      transfers:
        printSystem || Object.values(stuck).some((count) => count > 0) ? { label: printSystem?.balances.label ?? null, ...stuck, lateMinutes: LATE_TRANSFER_MINUTES } : null,
      problems: problems.map((problem) => ({ ...problem, number: formatOrderNumber(problem.orderId, problem.orderCreatedAt) })),
    });
  });
}
