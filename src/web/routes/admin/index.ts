import { Router } from 'express';
import { createProviderHealthChecks } from '../../../services/identity/provider-health.js';
import { requireRole } from '../../middleware/authentication.js';
import { registerApiKeyRoutes } from './api-keys.js';
import { registerDashboardRoutes } from './dashboard.js';
import { registerMailRoutes } from './mails.js';
import { registerCreditTransferRoutes } from './credit-transfers.js';
import { registerOrderRoutes } from './orders.js';
import { registerPeopleRoutes } from './people.js';
import { registerPriceRoutes } from './prices.js';
import { registerReportRoutes } from './reports.js';
import { registerSignInRoutes } from './sign-in.js';
import { registerTermsRoutes } from './terms.js';
import { registerVoucherRoutes } from './vouchers.js';
import { registerCreditRefundRoutes } from './credit-refunds.js';
import type { AdminDependencies } from './dependencies.js';

/**
 * Every page under /admin, for admins only: the guard is mounted before any admin route, so a route
 * added later cannot forget it (test/integration/admin-access.test.ts enumerates them all).
 */
export function adminRoutes(deps: AdminDependencies): Router {
  const router = Router();
  router.use('/admin', requireRole('admin'));
  // The providers' last health checks, shown on the dashboard and the sign-in page.
  const providerHealth = createProviderHealthChecks({ identity: deps.identity, clock: deps.clock });
  registerDashboardRoutes(router, deps, providerHealth);
  registerPriceRoutes(router, deps);
  registerTermsRoutes(router, deps);
  registerPeopleRoutes(router, deps);
  registerSignInRoutes(router, deps, providerHealth);
  registerOrderRoutes(router, deps);
  registerReportRoutes(router, deps);
  registerApiKeyRoutes(router, deps);
  registerMailRoutes(router, deps);
  registerCreditTransferRoutes(router, deps);
  registerVoucherRoutes(router, deps);
  registerCreditRefundRoutes(router, deps);
  return router;
}
