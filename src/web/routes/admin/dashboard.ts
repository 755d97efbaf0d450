import type { Router } from 'express';
import { countLatePendingTransfers, countTransfersByState } from '../../../services/credit-transfers/records.js';
import { countOrdersIn, countUnmatchedWebhooks, quotePaymentTotals, recentPaymentProblems, topUpTotals, unitsOutstanding } from '../../../services/reports/records.js';
import { addDays, dayOf, firstOfMonth, startOfDay } from '../../../domain/time/calendar.js';
import { formatOrderNumber } from '../../../domain/checkout/orders.js';
import type { Translate } from '../../../i18n/index.js';
import { renderPage } from '../../render.js';
import type { ProviderHealthChecks } from '../../../services/identity/provider-health.js';
import type { AdminDependencies } from './dependencies.js';

const PROBLEM_WINDOW_MS = 7 * 24 * 3600_000;
/** A transfer still pending this long after it was queued is stuck: attempts keep failing, or none is made. */
export const LATE_TRANSFER_MINUTES = 15;

export function registerDashboardRoutes(router: Router, { db, clock, config, printSystem }: AdminDependencies, providerHealth: ProviderHealthChecks): void {
  router.get('/admin', async (_request, response) => {
    const t = response.locals.t as Translate;
    const now = clock.now();
    const zone = config.i18n.timeZone;
    const today = dayOf(now, zone);
    const tomorrow = startOfDay(addDays(today, 1), zone);
    const since = new Date(now.getTime() - PROBLEM_WINDOW_MS);
    const monthStart = startOfDay(firstOfMonth(today), zone);
    const [todayTotals, monthTotals, monthQuotes, outstanding, pending, failed, problems, unmatchedWebhooks, transferStates, lateTransfers] = await Promise.all([
      topUpTotals(db.knex, startOfDay(today, zone), tomorrow),
      topUpTotals(db.knex, monthStart, tomorrow),
      quotePaymentTotals(db.knex, monthStart, tomorrow),
      unitsOutstanding(db.knex),
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
