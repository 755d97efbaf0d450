import type { Router } from 'express';
import { countOrdersIn, countUnmatchedWebhooks, quotePaymentTotals, recentPaymentProblems, topUpTotals, unitsOutstanding } from '../../../services/reports/records.js';
import { addDays, dayOf, firstOfMonth, startOfDay } from '../../../domain/time/calendar.js';
import { formatOrderNumber } from '../../../domain/checkout/orders.js';
import type { Translate } from '../../../i18n/index.js';
import { renderPage } from '../../render.js';
import type { ProviderHealthChecks } from '../../../services/identity/provider-health.js';
import type { AdminDependencies } from './dependencies.js';

const PROBLEM_WINDOW_MS = 7 * 24 * 3600_000;

export function registerDashboardRoutes(router: Router, { db, clock, config }: AdminDependencies, providerHealth: ProviderHealthChecks): void {
  router.get('/admin', async (_request, response) => {
    const t = response.locals.t as Translate;
    const now = clock.now();
    const zone = config.i18n.timeZone;
    const today = dayOf(now, zone);
    const tomorrow = startOfDay(addDays(today, 1), zone);
    const since = new Date(now.getTime() - PROBLEM_WINDOW_MS);
    const monthStart = startOfDay(firstOfMonth(today), zone);
    const [todayTotals, monthTotals, monthQuotes, outstanding, pending, failed, problems, unmatchedWebhooks] = await Promise.all([
      topUpTotals(db.knex, startOfDay(today, zone), tomorrow),
      topUpTotals(db.knex, monthStart, tomorrow),
      quotePaymentTotals(db.knex, monthStart, tomorrow),
      unitsOutstanding(db.knex),
      countOrdersIn(db.knex, ['awaiting_payment', 'approved', 'capture_pending']),
      countOrdersIn(db.knex, ['failed']),
      recentPaymentProblems(db.knex, since, 20),
      countUnmatchedWebhooks(db.knex, since),
    ]);
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
      problems: problems.map((problem) => ({ ...problem, number: formatOrderNumber(problem.orderId, problem.orderCreatedAt) })),
    });
  });
}
